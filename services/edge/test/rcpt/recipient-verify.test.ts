import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { MemoryState } from '@portcullis/state';
import { RecipientVerifier, classify, verifyReply } from '../../src/rcpt/recipient-verify.js';

const known = new Set(['alice@example.test']);
let probes = 0;
let sawData = false;
let mailbox: SMTPServer;
let port = 0;

before(async () => {
  // The mailbox server: a real SMTP server that knows one user and tempfails "busy@".
  mailbox = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onConnect(_s, cb) {
      probes++;
      cb();
    },
    onRcptTo(addr, _s, cb) {
      if (known.has(addr.address)) return cb();
      if (addr.address.startsWith('busy@')) return cb(Object.assign(new Error('Try later'), { responseCode: 451 }));
      cb(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
    },
    onData(stream, _s, cb) {
      sawData = true;
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((r) => mailbox.listen(0, '127.0.0.1', () => r()));
  const a = mailbox.server.address();
  port = typeof a === 'object' && a ? a.port : 0;
});

after(() => new Promise<void>((r) => mailbox.close(() => r())));

const opts = { positiveTtlSeconds: 60, negativeTtlSeconds: 60, timeoutMs: 2000 };
const target = () => ({ host: '127.0.0.1', port, tls: 'none' as const });

test('asks the mailbox server with RCPT and never sends DATA', async () => {
  const v = new RecipientVerifier(new MemoryState(), { helo: 'mx.test', maxConcurrent: 2 });
  assert.equal(await v.verify('alice@example.test', target(), opts), 'exists');
  assert.equal(await v.verify('nobody@example.test', target(), opts), 'unknown');
  assert.equal(await v.verify('busy@example.test', target(), opts), 'tempfail');
  assert.equal(sawData, false);
});

test('caches answers, positive and negative, but not temporary failures', async () => {
  const v = new RecipientVerifier(new MemoryState(), { helo: 'mx.test', maxConcurrent: 2 });
  const before = probes;
  await v.verify('alice@example.test', target(), opts);
  await v.verify('alice@example.test', target(), opts);
  await v.verify('ghost@example.test', target(), opts);
  await v.verify('ghost@example.test', target(), opts);
  assert.equal(probes - before, 2, 'one probe per address');

  await v.verify('busy@example.test', target(), opts);
  await v.verify('busy@example.test', target(), opts);
  assert.equal(probes - before, 4, 'temporary failures are asked again');
});

test("a local part in another case is asked on its own: it is the mailbox server's to judge", async () => {
  // Addresses arrive normalised by rcpt.ts (folded there when the domain says localPartCase: lower).
  const v = new RecipientVerifier(new MemoryState(), { helo: 'mx.test', maxConcurrent: 2 });
  const before = probes;
  assert.equal(await v.verify('alice@example.test', target(), opts), 'exists');
  assert.equal(await v.verify('ALICE@example.test', target(), opts), 'unknown', 'this mailbox server is case-sensitive');
  assert.equal(probes - before, 2);
});

test('a mailbox server that is down or silent is a temporary failure', async () => {
  const v = new RecipientVerifier(new MemoryState(), { helo: 'mx.test', maxConcurrent: 2 });
  assert.equal(await v.verify('alice@example.test', { host: '127.0.0.1', port: 1, tls: 'none' }, opts), 'tempfail');
  const { createServer } = await import('node:net');
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const a = silent.address();
  const started = Date.now();
  const outcome = await v.verify('x@example.test', { host: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0, tls: 'none' }, { ...opts, timeoutMs: 300 });
  assert.equal(outcome, 'tempfail');
  assert.ok(Date.now() - started < 2000, 'bounded by the timeout');
  silent.close();
});

test('replies: unknown is 550 5.1.1, temporary is 451 4.4.3, exists passes', () => {
  assert.deepEqual(verifyReply('unknown', 'a@b.test')?.reply, { code: 550, enhanced: '5.1.1', text: 'Recipient <a@b.test> does not exist here' });
  assert.equal(verifyReply('tempfail', 'a@b.test')?.reply.code, 451);
  assert.equal(verifyReply('exists', 'a@b.test'), null);
  assert.equal(classify(554, '554 5.7.1 policy'), 'tempfail');
  assert.equal(classify(550, '550 5.1.1 unknown'), 'unknown');
  assert.equal(classify(501, '501 5.1.3 bad address'), 'unknown');
});
