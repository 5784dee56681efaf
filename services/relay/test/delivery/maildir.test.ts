import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { mailboxDirName, deliverToMaildir, maildirFailure, MaildirRefusal } from '../../src/delivery/maildir.js';

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

const mode = async (path: string) => (await stat(path)).mode & 0o777;

test('folders are 0700 and files 0600 whatever the umask, and an older 0755 mailbox is tightened', async () => {
  const old = process.umask(0);
  try {
    const path = await deliverToMaildir(root, 'open@example.test', 'ID4', Buffer.from('x'));
    assert.equal(await mode(path), 0o600);
    for (const d of ['', 'tmp', 'new', 'cur']) assert.equal(await mode(join(root, 'open@example.test', d)), 0o700, d || 'the mailbox');
    await mkdir(join(root, 'older@example.test', 'new'), { recursive: true, mode: 0o755 });
    assert.equal(await mode(join(root, 'older@example.test', 'new')), 0o755);
    await deliverToMaildir(root, 'older@example.test', 'ID5', Buffer.from('x'));
    assert.equal(await mode(join(root, 'older@example.test')), 0o700);
    assert.equal(await mode(join(root, 'older@example.test', 'new')), 0o700);
    const fresh = join(root, 'fresh-root');
    await deliverToMaildir(fresh, 'a@example.test', 'ID6', Buffer.from('x'));
    assert.equal(await mode(fresh), 0o700, 'a root created here is private too');
  } finally {
    process.umask(old);
  }
});

test('a recipient longer than a file name is a permanent failure, not days of retries', async () => {
  const long = `${'ü'.repeat(100)}@example.test`; // 213 octets: fits
  await deliverToMaildir(root, long, 'ID7', Buffer.from('x'));
  const tooLong = `${'ü'.repeat(130)}@example.test`; // 273 octets
  const err = await deliverToMaildir(root, tooLong, 'ID8', Buffer.from('x')).catch((e: unknown) => e);
  assert.ok(err instanceof MaildirRefusal, String(err));
  assert.equal(maildirFailure(err), 'permanent');
  assert.equal(maildirFailure(Object.assign(new Error('x'), { code: 'ENAMETOOLONG' })), 'permanent');
  assert.equal(maildirFailure(Object.assign(new Error('disk full'), { code: 'ENOSPC' })), 'temporary');
});
