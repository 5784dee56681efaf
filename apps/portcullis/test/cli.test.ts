import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');

function run(args: string[], yaml?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
  const path = join(dir, 'portcullis.yaml');
  if (yaml !== undefined) writeFileSync(path, yaml);
  return spawnSync(process.execPath, [CLI, ...args, '--config', path], { encoding: 'utf8', timeout: 20_000 });
}

test('a bad key stops the process with exit 78 and a message naming the key', () => {
  const r = run(['run', 'all'], 'domains:\n  - name: example.test\nsmtp:\n  maxMessageBytes: "big"\n  maxRecipents: 5\n');
  assert.equal(r.status, 78);
  assert.match(r.stderr, /smtp\.maxMessageBytes: /);
  assert.match(r.stderr, /smtp\.maxRecipents: unknown key/);
});

test('a missing config file is named', () => {
  const r = run(['run', 'all']);
  assert.equal(r.status, 78);
  assert.match(r.stderr, /cannot read config file .*portcullis\.yaml: ENOENT/);
});

test('the in-process bus cannot be split across processes', () => {
  const r = run(['run', 'edge'], 'domains:\n  - name: example.test\n');
  assert.equal(r.status, 78);
  assert.match(r.stderr, /bus\.kind: "memory" only works with every service in one process/);
});

test('an unknown service is refused with the usage', () => {
  const r = run(['run', 'smtpd'], 'domains:\n  - name: example.test\n');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown service "smtpd"/);
});

test('quarantine and trace commands need the admin API on and its token, and say so', () => {
  const r = run(['quarantine', 'list'], 'domains:\n  - name: example.test\n');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /the admin API is off in .*: set http\.admin\.enabled/);
  const t = run(['quarantine', 'list', '--url', 'http://127.0.0.1:1'], 'domains:\n  - name: example.test\n');
  assert.equal(t.status, 2);
  assert.match(t.stderr, /no admin token: give --token-file or set http\.admin\.tokenFile/);
  const u = run(['trace'], 'domains:\n  - name: example.test\nhttp:\n  admin: { enabled: true, listen: { host: 127.0.0.1, port: 1 }, tokenFile: /dev/null }\n');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /portcullis trace search/);
});

test('an admin API with an empty or missing token file stops the start (78), naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-token-'));
  writeFileSync(join(dir, 'empty'), '\n');
  for (const [file, why] of [
    [join(dir, 'empty'), /http\.admin\.tokenFile: the token file is empty/],
    [join(dir, 'absent'), /http\.admin\.tokenFile: cannot read .*absent: ENOENT/],
  ] as const) {
    const r = run(
      ['run', 'all'],
      `domains:\n  - name: example.test\nhttp:\n  listen: { host: 127.0.0.1, port: 0 }\n  admin: { enabled: true, listen: { host: 127.0.0.1, port: 0 }, tokenFile: ${file} }\n`,
    );
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, why);
  }
});
