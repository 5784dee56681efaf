import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { mailboxDirName, deliverToMaildir } from '../src/maildir.js';

const root = await mkdtemp(join(tmpdir(), 'portcullis-maildir-'));
after(() => rm(root, { recursive: true, force: true }));

test('mailboxDirName neutralises separators, NUL and leading dots', () => {
  assert.equal(mailboxDirName('user@example.test'), 'user@example.test');
  assert.equal(mailboxDirName('a/b@example.test'), 'a_b@example.test');
  assert.equal(mailboxDirName('a\\b@example.test'), 'a_b@example.test');
  assert.equal(mailboxDirName('a\0b@example.test'), 'a_b@example.test');
  assert.equal(mailboxDirName('.hidden@example.test'), '_hidden@example.test');
  assert.equal(mailboxDirName('..'), '_');
  assert.equal(mailboxDirName('.'), '_');
});

test('no recipient name climbs out of the root', () => {
  for (const evil of ['../../etc/passwd', '..', '.', '..\\..\\x', '/abs', './..', '...']) {
    const name = mailboxDirName(evil);
    assert.ok(!name.startsWith('.'), name);
    assert.ok(!/[/\\]/.test(name), name);
    assert.equal(dirname(join(root, name)), root, evil);
  }
});

test('deliverToMaildir writes the message into <root>/<rcpt>/new, leaving tmp empty', async () => {
  const raw = Buffer.from('Subject: hi\r\n\r\nbinary \x00\xff ok\r\n', 'latin1');
  const path = await deliverToMaildir(root, 'user@example.test', 'ID1', raw);
  const box = join(root, 'user@example.test');
  assert.equal(path, join(box, 'new', 'ID1.eml'));
  assert.ok((await readFile(path)).equals(raw));
  assert.deepEqual(await readdir(join(box, 'tmp')), []);
  assert.deepEqual(await readdir(join(box, 'cur')), []);
});

test('delivering the same message again overwrites instead of duplicating', async () => {
  await deliverToMaildir(root, 'dup@example.test', 'ID2', Buffer.from('first'));
  const path = await deliverToMaildir(root, 'dup@example.test', 'ID2', Buffer.from('second'));
  assert.deepEqual(await readdir(join(root, 'dup@example.test', 'new')), ['ID2.eml']);
  assert.equal(await readFile(path, 'utf8'), 'second');
});

test('a recipient with a path separator stays inside the root', async () => {
  const path = await deliverToMaildir(root, '../escape@example.test', 'ID3', Buffer.from('x'));
  assert.equal(path, join(root, '__escape@example.test', 'new', 'ID3.eml'));
});
