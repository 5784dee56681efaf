import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Logger } from '@portcullis/telemetry';
import { PassthroughCredentialSource, type PassthroughOptions } from '../../src/login/credentials-passthrough.js';

const logged: unknown[] = [];
const logger = (() => {
  const rec = (obj: unknown, msg?: string): void => {
    logged.push({ obj, msg });
  };
  const l: Record<string, unknown> = { info: rec, warn: rec, error: rec, debug: rec, trace: rec, fatal: rec };
  l['child'] = () => l;
  return l as unknown as Logger;
})();

// A self-signed certificate for the loopback mailbox server, made at test time.
let tmp: string;
let key: Buffer;
let cert: Buffer;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'portcullis-passthrough-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(tmp, 'key.pem'),
      '-out',
      join(tmp, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=mailbox.test',
      '-addext',
      'subjectAltName=DNS:mailbox.test,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  key = readFileSync(join(tmp, 'key.pem'));
  cert = readFileSync(join(tmp, 'cert.pem'));
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const accounts = new Map<string, string>([
  ['alice@example.test', 'correct horse'],
  ['bob', 'hunter2'],
  ['carol@example.test', 'carol pw'],
]);
for (let i = 0; i < 8; i++) accounts.set(`user${i}@example.test`, `pw${i}`);

interface Mailbox {
  port: number;
  connections: number;
  auths: number;
  authActive: number;
  authMaxActive: number;
  authDelayMs: number;
  tempfail: boolean;
  close(): Promise<void>;
}

async function mailbox(opts: Partial<SMTPServerOptions> = {}): Promise<Mailbox> {
  const state: Mailbox = {
    port: 0,
    connections: 0,
    auths: 0,
    authActive: 0,
    authMaxActive: 0,
    authDelayMs: 0,
    tempfail: false,
    close: async () => undefined,
  };
  const server = new SMTPServer({
    secure: false,
    key,
    cert,
    authOptional: false,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    logger: false,
    ...opts,
    onConnect(_session, cb) {
      state.connections++;
      cb();
    },
    onAuth(auth, _session, cb) {
      state.auths++;
      state.authActive++;
      state.authMaxActive = Math.max(state.authMaxActive, state.authActive);
      setTimeout(() => {
        state.authActive--;
        if (state.tempfail) return cb(Object.assign(new Error('Temporary authentication failure'), { responseCode: 454 }));
        const ok = auth.username !== undefined && accounts.get(auth.username) === auth.password;
        if (!ok) return cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
        cb(null, { user: auth.username });
      }, state.authDelayMs);
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  state.port = typeof addr === 'object' && addr ? addr.port : 0;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

function source(mb: Mailbox, extra: Partial<PassthroughOptions> = {}): PassthroughCredentialSource {
  return new PassthroughCredentialSource({
    host: '127.0.0.1',
    port: mb.port,
    tls: 'starttls',
    verifyCertificate: false,
    timeoutMs: 3000,
    logger,
    ...extra,
  });
}

test('STARTTLS pass-through: right password ok, wrong password and unknown user invalid', async () => {
  const mb = await mailbox();
  try {
    const src = source(mb);
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse'), { ok: true, user: 'alice@example.test' });
    assert.deepEqual(await src.verify('alice@example.test', 'wrong'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await src.verify('nobody@example.test', 'correct horse'), { ok: false, reason: 'invalid' });
    assert.equal(mb.auths, 3);
  } finally {
    await mb.close();
  }
});

test('certificate verification: the right CA and name pass, an unknown CA is unavailable', async () => {
  const mb = await mailbox();
  try {
    const verified = source(mb, { verifyCertificate: true, ca: cert, servername: 'mailbox.test' });
    assert.deepEqual(await verified.verify('bob', 'hunter2'), { ok: true, user: 'bob' });
    const strict = source(mb, { verifyCertificate: true });
    const r = await strict.verify('bob', 'hunter2');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'unavailable');
    assert.equal(mb.auths, 1, 'no credentials went to a server whose certificate failed');
  } finally {
    await mb.close();
  }
});

test('implicit TLS (465) works', async () => {
  const mb = await mailbox({ secure: true });
  try {
    const src = source(mb, { tls: 'implicit' });
    assert.deepEqual(await src.verify('bob', 'hunter2'), { ok: true, user: 'bob' });
    assert.deepEqual(await src.verify('bob', 'hunter3'), { ok: false, reason: 'invalid' });
  } finally {
    await mb.close();
  }
});

test('a server without STARTTLS gets no credentials: unavailable', async () => {
  const mb = await mailbox({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
  try {
    const r = await source(mb).verify('bob', 'hunter2');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'unavailable');
    assert.equal(mb.auths, 0);
  } finally {
    await mb.close();
  }
  assert.throws(() => new PassthroughCredentialSource({ host: '127.0.0.1', port: 25, tls: 'none' as 'starttls', logger }));
});

test('a success is cached: the second check makes no connection; the cache holds only digests', async () => {
  const mb = await mailbox();
  try {
    const src = source(mb);
    assert.equal((await src.verify('alice@example.test', 'correct horse')).ok, true);
    const after1 = mb.connections;
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse'), { ok: true, user: 'alice@example.test' });
    assert.equal(mb.connections, after1, 'cached success must not connect');
    // A different password for the same user is not served from the cache.
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse!'), { ok: false, reason: 'invalid' });
    assert.equal(mb.connections, after1 + 1);
    // Failures are not cached.
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse!'), { ok: false, reason: 'invalid' });
    assert.equal(mb.connections, after1 + 2);

    const entries = src.cacheEntries();
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.ok(entry);
    assert.match(entry.digest, /^[0-9a-f]{64}$/);
    assert.equal(entry.user, 'alice@example.test');
    assert.ok(!JSON.stringify(entries).includes('correct horse'));
    assert.ok(!JSON.stringify(logged).includes('correct horse'), 'no password in the log');
  } finally {
    await mb.close();
  }
});

test('the cache expires and is bounded (oldest dropped first)', async () => {
  const mb = await mailbox();
  try {
    const src = source(mb, { cacheTtlMs: 150, cacheMaxEntries: 2 });
    assert.equal((await src.verify('user0@example.test', 'pw0')).ok, true);
    assert.equal((await src.verify('user1@example.test', 'pw1')).ok, true);
    assert.equal((await src.verify('user2@example.test', 'pw2')).ok, true);
    assert.deepEqual(
      src.cacheEntries().map((e) => e.user),
      ['user1@example.test', 'user2@example.test'],
    );
    const n = mb.connections;
    assert.equal((await src.verify('user2@example.test', 'pw2')).ok, true);
    assert.equal(mb.connections, n);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await src.verify('user2@example.test', 'pw2')).ok, true);
    assert.equal(mb.connections, n + 1, 'an expired entry is checked again');

    const nocache = source(mb, { cacheTtlMs: 0 });
    await nocache.verify('bob', 'hunter2');
    await nocache.verify('bob', 'hunter2');
    assert.equal(nocache.cacheEntries().length, 0);
    assert.equal(nocache.probes, 2);
  } finally {
    await mb.close();
  }
});

test('server down: unavailable', async () => {
  const mb = await mailbox();
  const port = mb.port;
  await mb.close();
  const src = new PassthroughCredentialSource({ host: '127.0.0.1', port, tls: 'starttls', verifyCertificate: false, timeoutMs: 2000, logger });
  const r = await src.verify('bob', 'hunter2');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'unavailable');
  assert.match(!r.ok && r.reason === 'unavailable' ? r.detail : '', /ECONNREFUSED|ECONNECTION/);
});

test('a server that never answers: unavailable within the timeout', async () => {
  const sockets: Socket[] = [];
  const silent: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const addr = silent.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  try {
    const src = new PassthroughCredentialSource({ host: '127.0.0.1', port, tls: 'starttls', verifyCertificate: false, timeoutMs: 300, logger });
    const t0 = Date.now();
    const r = await src.verify('bob', 'hunter2');
    const took = Date.now() - t0;
    assert.equal(!r.ok && r.reason, 'unavailable');
    assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('a 4xx from the mailbox server: unavailable, not invalid', async () => {
  const mb = await mailbox();
  mb.tempfail = true;
  try {
    const r = await source(mb).verify('bob', 'hunter2');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'unavailable');
    assert.match(!r.ok && r.reason === 'unavailable' ? r.detail : '', /454/);
  } finally {
    await mb.close();
  }
});

test('concurrent probes are bounded; extra callers wait, and time out as unavailable', async () => {
  const mb = await mailbox();
  mb.authDelayMs = 150;
  try {
    const src = source(mb, { maxConcurrent: 2 });
    const results = await Promise.all([...Array(6).keys()].map((i) => src.verify(`user${i}@example.test`, `pw${i}`)));
    assert.ok(results.every((r) => r.ok));
    assert.equal(mb.auths, 6);
    assert.ok(mb.authMaxActive <= 2, `at most 2 at once, saw ${mb.authMaxActive}`);

    // The same credentials at once share one probe.
    const before = mb.connections;
    src.clearCache();
    const same = await Promise.all([1, 2, 3].map(() => src.verify('bob', 'hunter2')));
    assert.ok(same.every((r) => r.ok));
    assert.equal(mb.connections, before + 1);

    // One slot busy and no waiting allowed: the next caller is refused at once.
    mb.authDelayMs = 400;
    const noQueue = source(mb, { maxConcurrent: 1, maxWaiting: 0 });
    const busy = noQueue.verify('user6@example.test', 'pw6');
    const t0 = Date.now();
    const refused = await noQueue.verify('user7@example.test', 'pw7');
    assert.equal(!refused.ok && refused.reason, 'unavailable');
    assert.ok(Date.now() - t0 < 100);
    assert.equal((await busy).ok, true);

    // One slot, a slow server, a short timeout: the waiting caller gives up in time too.
    mb.authDelayMs = 800;
    const one = source(mb, { maxConcurrent: 1, timeoutMs: 400 });
    const t1 = Date.now();
    const [first, second] = await Promise.all([one.verify('user6@example.test', 'pw6'), one.verify('user7@example.test', 'pw7')]);
    assert.equal(!first.ok && first.reason, 'unavailable');
    assert.equal(!second.ok && second.reason, 'unavailable');
    assert.ok(Date.now() - t1 < 1500, `both answered within the timeout (${Date.now() - t1} ms)`);
  } finally {
    await mb.close();
  }
});

test('allowed sender addresses: the username if it is an address, plus configured extras', () => {
  const src = new PassthroughCredentialSource({
    host: '127.0.0.1',
    port: 1,
    tls: 'starttls',
    logger,
    addressesFor: (user) => (user === 'bob' ? ['bob@example.test', '@Shared.Example.test'] : ['@shared.example.test', 'not an address']),
  });
  assert.deepEqual(src.addressesFor('Alice@Example.Test'), ['alice@example.test', '@shared.example.test']);
  assert.deepEqual(src.addressesFor('bob'), ['bob@example.test', '@shared.example.test']);
  assert.deepEqual(src.addressesFor('@example.test'), ['@shared.example.test']);
});
