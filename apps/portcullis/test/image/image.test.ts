import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// scripts/test.sh builds the image (scripts/image.sh, buildah from scratch) and names it here.
const IMAGE = process.env.PORTCULLIS_TEST_IMAGE;
const skip = IMAGE ? false : 'PORTCULLIS_TEST_IMAGE not set (scripts/test.sh builds the image with scripts/image.sh)';
const OFFSET = Number(process.env.PORTCULLIS_TEST_PORT_OFFSET ?? 0);
const SMTP = Number(process.env.PORTCULLIS_TEST_IMAGE_SMTP_PORT ?? 12525 + OFFSET);
const HTTP = Number(process.env.PORTCULLIS_TEST_IMAGE_HTTP_PORT ?? 18025 + OFFSET);
const env = { ...process.env, STORAGE_DRIVER: 'vfs' };
let dir = '';
let ctr = '';
let proc: ChildProcess | undefined;

const buildah = (...args: string[]) => {
  const r = spawnSync('buildah', args, { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: (r.stdout + r.stderr).trim() };
};
// No OCI runtime here: chroot isolation, the host's network (so the test reaches the ports on loopback).
const run = (mounts: string[], cmd: string[]) => ['run', '--isolation', 'chroot', ...mounts.flatMap((m) => ['-v', m]), ctr, '--', ...cmd];

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'image-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'var'));
  chownSync(join(dir, 'var'), 10001, 10001);
  writeFileSync(
    join(dir, 'config/portcullis.yaml'),
    JSON.stringify({
      hostname: 'mx.example.test',
      domains: [{ name: 'example.test' }],
      smtp: { mx: { listen: { host: '127.0.0.1', port: SMTP } }, verdictTimeoutMs: 5000 },
      http: { listen: { host: '127.0.0.1', port: HTTP } },
      relay: { maildir: '/app/var/mail' },
    }),
  );
  const from = buildah('from', IMAGE!);
  assert.equal(from.code, 0, from.out);
  ctr = from.out.split('\n').pop()!;
});
after(() => {
  proc?.kill('SIGTERM');
  if (ctr) buildah('rm', ctr);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the image runs as 10001 and cannot write its own filesystem', { skip }, () => {
  const r = buildah(
    ...run(
      [],
      [
        '/usr/local/bin/node',
        '-e',
        'process.stdout.write(String(process.getuid())); try { require("fs").writeFileSync("/app/x", "x"); console.log(" wrote") } catch (e) { console.log(" " + e.code) }',
      ],
    ),
  );
  assert.equal(r.out.split('\n').pop(), '10001 EACCES');
});

function smtp(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(SMTP, '127.0.0.1');
    let got = '';
    let i = 0;
    s.setTimeout(20_000, () => s.destroy(new Error(`SMTP timeout after: ${got}`)));
    s.on('data', (d) => {
      got += d.toString();
      if (/^\d{3} /m.test(got.split('\r\n').slice(-2).join('\n')) && i < lines.length) s.write(`${lines[i++]}\r\n`);
      else if (i >= lines.length && /\r\n$/.test(got)) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('the image starts the gateway (embedded) through its entry, answers /readyz and accepts a message over SMTP', { skip }, async () => {
  proc = spawn(
    'buildah',
    run(
      [`${dir}/config:/etc/portcullis/config:ro`, `${dir}/var:/app/var`],
      ['/usr/local/bin/node', '/app/apps/portcullis/dist/src/portcullis.js', 'run', 'all', '--config', '/etc/portcullis/config/portcullis.yaml'],
    ),
    { env, stdio: 'ignore' },
  );
  const end = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${HTTP}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    assert.ok(Date.now() < end && proc.exitCode === null, 'the gateway in the image did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  const dialogue = await smtp([
    'EHLO client.test',
    'MAIL FROM:<a@sender.test>',
    'RCPT TO:<postmaster@example.test>',
    'DATA',
    'Subject: image test\r\nFrom: a@sender.test\r\nTo: postmaster@example.test\r\n\r\nhello\r\n.',
    'QUIT',
  ]);
  assert.match(dialogue, /\r\n250 [^\r\n]*\r\n221 /, dialogue);
  const delivered = () => {
    try {
      return readdirSync(join(dir, 'var/mail'), { recursive: true }).filter((f) => String(f).includes('new/')).length;
    } catch {
      return 0;
    }
  };
  for (let i = 0; i < 100 && delivered() === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(delivered(), 1, 'delivered to the Maildir on the mounted volume');
});
