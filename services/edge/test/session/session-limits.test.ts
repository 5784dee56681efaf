import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionLimits, declaredSize, type SessionHandle } from '../../src/session/session-limits.js';
import { type LimitRefusal as Refusal } from '../../src/session/limit-refusals.js';
import { OURS, RawClient, eventually, expectCode, withHarness } from '../smtp-harness.js';

// ------------------------------------------------------------------------------------------ unit

function fakeHandle(state: { awaiting: boolean; dataBytes: number | null }) {
  const cuts: Refusal[] = [];
  const handle: SessionHandle = {
    awaitingClient: () => state.awaiting,
    dataBytes: () => state.dataBytes,
    cut: (v) => cuts.push(v),
  };
  return { handle, cuts };
}

const off = { maxCommands: 0, maxErrors: 0, maxMessages: 0, sessionTimeoutMs: 0, dataTimeoutMs: 0, dataMinBytesPerSecond: 0 };

test('commands: maxCommands are handled, the next one gets 421 4.7.0 and closes', () => {
  const limits = new SessionLimits({ ...off, maxCommands: 3 });
  limits.open('s1');
  for (let i = 0; i < 3; i++) assert.deepEqual(limits.command('s1'), { ok: true });
  const v = limits.command('s1');
  assert.equal(v.ok, false);
  assert.deepEqual(v, {
    ok: false,
    refusal: {
      id: 'session.too-many-commands',
      reply: { code: 421, enhanced: '4.7.0', text: 'Too many commands in one connection, closing' },
      disconnect: true,
      reason: 'commands',
    },
  });
  assert.deepEqual(limits.command('unknown-session'), { ok: true }, 'sessions not opened are not limited');
});

test('errors: 4xx/5xx replies count (not 421, not 2xx/3xx); after maxErrors the next command gets 421 4.7.0', () => {
  const limits = new SessionLimits({ ...off, maxErrors: 3 });
  limits.open('s');
  for (const code of [220, 250, 334, 354, 421, 550, 501]) limits.reply('s', code);
  assert.equal(limits.stats('s')?.errors, 2);
  assert.equal(limits.command('s').ok, true);
  limits.reply('s', 452);
  const v = limits.command('s');
  assert.equal(v.ok || v.refusal.reply.code, 421);
  assert.equal(v.ok || `${v.refusal.reply.enhanced} ${v.refusal.reason}`, '4.7.0 errors');
});

test('messages: MAIL after maxMessages DATA transfers gets 421 4.7.0 and closes', () => {
  const limits = new SessionLimits({ ...off, maxMessages: 2 });
  limits.open('s');
  for (let i = 0; i < 2; i++) {
    assert.equal(limits.mail('s', { address: 'a@b', args: false }).ok, true);
    limits.dataStarted('s');
  }
  const v = limits.mail('s', { address: 'a@b', args: false });
  assert.equal(v.ok, false);
  assert.deepEqual(v.ok ? null : [v.refusal.reply.code, v.refusal.reply.enhanced, v.refusal.disconnect, v.refusal.reason], [421, '4.7.0', true, 'messages']);
});

test('SIZE at MAIL: over the fixed limit is 552 5.3.4 (RFC 1870 6.1); invalid or absent SIZE is not ours to judge', () => {
  const limits = new SessionLimits({ ...off, maxMessageBytes: 1000 });
  assert.equal(limits.mail('x', { args: { SIZE: '1000' } }).ok, true);
  const v = limits.mail('x', { args: { SIZE: '1001' } });
  assert.deepEqual(v.ok ? null : [v.refusal.reply.code, v.refusal.reply.enhanced, v.refusal.disconnect, v.refusal.reason], [552, '5.3.4', false, 'size-declared']);
  assert.equal(declaredSize({ args: { SIZE: 'abc' } }), undefined);
  assert.equal(declaredSize({ args: { SIZE: true } }), undefined);
  assert.equal(declaredSize(false), undefined);
  assert.equal(declaredSize({ args: false }), undefined);
  assert.equal(declaredSize({ args: { SIZE: '42' } }), 42);
});

test('size at end of DATA: over the limit or over the declared SIZE is 552 5.3.4; buffering stops at the smaller', () => {
  const limits = new SessionLimits({ ...off, maxMessageBytes: 1000 });
  const declared = { args: { SIZE: '100' } };
  assert.equal(limits.messageByteLimit(declared), 100);
  assert.equal(limits.messageByteLimit({ args: { SIZE: '5000' } }), 1000);
  assert.equal(limits.messageByteLimit({ args: false }), 1000);
  assert.equal(limits.checkMessageSize('s', 100, declared).ok, true);
  const over = limits.checkMessageSize('s', 101, declared);
  assert.deepEqual(over.ok ? null : [over.refusal.reply.code, over.refusal.reply.enhanced, over.refusal.reply.text], [
    552,
    '5.3.4',
    'Message of 101 octets exceeds its declared SIZE=100',
  ]);
  const big = limits.checkMessageSize('s', 1001, { args: false });
  assert.deepEqual(big.ok ? null : [big.refusal.reply.code, big.refusal.reply.enhanced, big.refusal.reason], [552, '5.3.4', 'size']);
  const lenient = new SessionLimits({ ...off, maxMessageBytes: 1000, enforceDeclaredSize: false });
  assert.equal(lenient.messageByteLimit(declared), 1000);
  assert.equal(lenient.checkMessageSize('s', 101, declared).ok, true);
  assert.equal(lenient.checkMessageSize('s', 1001, declared).ok, false);
});

test('session time: cut with 421 4.4.2 when the client owes us input', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const limits = new SessionLimits({ ...off, sessionTimeoutMs: 10_000 });
  const state = { awaiting: true, dataBytes: null };
  const { handle, cuts } = fakeHandle(state);
  limits.open('s', handle);
  t.mock.timers.tick(9_999);
  assert.equal(cuts.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(
    cuts.map((c) => [c.reply.code, c.reply.enhanced, c.reason, c.disconnect]),
    [[421, '4.4.2', 'session-time', true]],
  );
  assert.equal(limits.cutBy('s')?.reason, 'session-time');
  limits.close('s');
  assert.equal(limits.size, 0);
});

test('session time: while our reply is pending the session is not cut; the next command is refused, or it is cut once the reply is out', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const limits = new SessionLimits({ ...off, sessionTimeoutMs: 1000 });
  const state = { awaiting: false, dataBytes: null };
  const { handle, cuts } = fakeHandle(state);
  limits.open('a', handle);
  t.mock.timers.tick(5000);
  assert.equal(cuts.length, 0, 'not cut while our reply is pending');
  const v = limits.command('a');
  assert.equal(v.ok || `${v.refusal.reply.code} ${v.refusal.reply.enhanced}`, '421 4.4.2');

  const state2 = { awaiting: false, dataBytes: null };
  const h2 = fakeHandle(state2);
  limits.open('b', h2.handle);
  t.mock.timers.tick(1500);
  assert.equal(h2.cuts.length, 0);
  state2.awaiting = true; // our reply went out
  t.mock.timers.tick(250);
  assert.equal(h2.cuts.length, 1);
});

test('DATA time: a drip is cut at dataTimeoutMs; received octets extend the deadline at the minimum rate', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const limits = new SessionLimits({ ...off, dataTimeoutMs: 1000, dataMinBytesPerSecond: 1000 });
  const state = { awaiting: true, dataBytes: 0 as number | null };
  const { handle, cuts } = fakeHandle(state);
  limits.open('s', handle);
  limits.dataStarted('s');
  state.dataBytes = 500; // 500 octets at 1000/s: half a second more
  t.mock.timers.tick(1000);
  assert.equal(cuts.length, 0);
  t.mock.timers.tick(499);
  assert.equal(cuts.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(
    cuts.map((c) => [c.reply.code, c.reply.enhanced, c.reason]),
    [[421, '4.4.2', 'data-time']],
  );
  assert.equal(limits.stats('s')?.messages, 1);
});

test('DATA time: not cut when the transfer is over (our own processing) or a command came', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const limits = new SessionLimits({ ...off, dataTimeoutMs: 1000 });
  const state = { awaiting: false, dataBytes: null as number | null };
  const { handle, cuts } = fakeHandle(state);
  limits.open('s', handle);
  limits.dataStarted('s');
  t.mock.timers.tick(2000);
  assert.equal(cuts.length, 0, 'CRLF.CRLF was received, the rest is our time');
  state.dataBytes = 1;
  limits.dataStarted('s');
  limits.command('s');
  t.mock.timers.tick(2000);
  assert.equal(cuts.length, 0, 'the next command cleared the DATA timer');
});

test('close clears the timers and forgets the session', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const limits = new SessionLimits({ ...off, sessionTimeoutMs: 100, dataTimeoutMs: 100 });
  const { handle, cuts } = fakeHandle({ awaiting: true, dataBytes: 0 });
  limits.open('s', handle);
  limits.dataStarted('s');
  limits.close('s');
  limits.close('s');
  t.mock.timers.tick(1000);
  assert.equal(cuts.length, 0);
  assert.equal(limits.size, 0);
  assert.equal(limits.stats('s'), undefined);
});

// ------------------------------------------------------------------------------------------ over real sockets

const message = (body = 'hello') => `From: a@sender.example\r\nTo: user@${OURS}\r\nSubject: test\r\n\r\n${body}\r\n.\r\n`;

test('socket: a client dripping one byte every 200 ms in DATA is cut off by the DATA time limit (421 4.4.2, connection closed)', async () => {
  // The idle timeout (socketTimeout, 5 s here) never fires: every byte resets it.
  await withHarness({ limits: { dataTimeoutMs: 1000, dataMinBytesPerSecond: 4096 }, socketTimeout: 5000 }, async (h) => {
    const c = await RawClient.connect(h.port);
    await c.startData();
    const started = Date.now();
    const drip = Buffer.from(`Subject: drip\r\n\r\n${'x'.repeat(100)}`);
    let i = 0;
    const timer = setInterval(() => {
      if (c.ended || i >= drip.length) return clearInterval(timer);
      c.write(drip.subarray(i, ++i));
    }, 200);
    try {
      const reply = await c.next(4000);
      const elapsed = Date.now() - started;
      assert.equal(reply.code, 421);
      assert.match(reply.text, /^4\.4\.2 Message transfer time limit reached/);
      assert.ok(elapsed >= 950 && elapsed < 2500, `cut after ${elapsed} ms`);
      assert.ok(await c.closedWithin(500), 'the server closed the connection');
      assert.ok(i < 20, `cut after ${i} bytes`);
    } finally {
      clearInterval(timer);
      c.destroy();
    }
    // The onData handler finished at once (stream aborted), gave its memory back and knows why.
    assert.ok(await eventually(() => h.outcomes.length === 1));
    assert.equal(h.outcomes[0]!.limit, 'data-time');
    assert.equal(h.budget.inUse, 0);
    assert.ok(await eventually(() => h.limits.size === 0), 'session state forgotten after close');
    assert.deepEqual(
      h.refusals.map((r) => r.verdict.reason),
      ['data-time'],
    );
  });
});

test('socket: a slow but steady client (above the minimum rate) is not cut by the DATA time limit', async () => {
  await withHarness({ limits: { dataTimeoutMs: 400, dataMinBytesPerSecond: 1000 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    await c.startData();
    c.write('Subject: slow\r\n\r\n');
    // 2000 octets/s for 1.2 s, three times the fixed 400 ms.
    for (let i = 0; i < 12; i++) {
      c.write(`${'y'.repeat(198)}\r\n`);
      await sleep(100);
    }
    c.write('.\r\n');
    await expectCode(c.next(), 250);
    await expectCode(c.command('QUIT'), 221);
    c.destroy();
  });
});

test('socket: the session time limit cuts a client that drips a command a byte at a time (421 4.4.2)', async () => {
  await withHarness({ limits: { sessionTimeoutMs: 1200 }, socketTimeout: 5000 }, async (h) => {
    const started = Date.now();
    const c = await RawClient.connect(h.port);
    await expectCode(c.command('EHLO client.example'), 250);
    const bytes = 'NOOP\r\n'.repeat(50);
    let i = 0;
    const timer = setInterval(() => c.ended || c.write(bytes[i++]!), 150);
    try {
      const replies: number[] = [];
      for (;;) {
        const r = await c.next(3000);
        replies.push(r.code);
        if (r.code !== 250) {
          assert.equal(r.code, 421);
          assert.match(r.text, /^4\.4\.2 Connection time limit reached/);
          break;
        }
      }
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1150 && elapsed < 2500, `cut after ${elapsed} ms`);
      assert.ok(await c.closedWithin(500));
    } finally {
      clearInterval(timer);
      c.destroy();
    }
  });
});

test('socket: the session time limit waits for a pending end-of-DATA reply (no stored message left unanswered), then closes', async () => {
  await withHarness({ limits: { sessionTimeoutMs: 800 }, replyDelayMs: 1000 }, async (h) => {
    const c = await RawClient.connect(h.port);
    await c.startData();
    c.write(message());
    const r = await c.next(4000);
    assert.equal(r.code, 250, 'the message is answered although the session time ran out meanwhile');
    const bye = await c.next(2000);
    assert.equal(bye.code, 421);
    assert.match(bye.text, /^4\.4\.2 /);
    assert.ok(await c.closedWithin(500));
    c.destroy();
    assert.equal(h.outcomes.length, 1);
  });
});

test('socket: too many commands (pipelined NOOPs) → 421 4.7.0 in turn, then nothing more', async () => {
  await withHarness({ limits: { maxCommands: 5 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    c.write('EHLO client.example\r\n' + 'NOOP\r\n'.repeat(20));
    const replies = await c.rest();
    assert.deepEqual(
      replies.map((r) => r.code),
      [250, 250, 250, 250, 250, 421],
    );
    assert.match(replies.at(-1)!.text, /^4\.7\.0 Too many commands/);
    c.destroy();
    assert.deepEqual(
      h.refusals.map((r) => r.verdict.reason),
      ['commands'],
    );
  });
});

test('socket: too many errors → the command after the last error gets 421 4.7.0 and the connection closes', async () => {
  await withHarness({ limits: { maxErrors: 3 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    await expectCode(c.command('EHLO client.example'), 250);
    await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
    for (const rcpt of ['x@elsewhere.example', 'y@elsewhere.example', 'z@elsewhere.example']) {
      const r = await expectCode(c.command(`RCPT TO:<${rcpt}>`), 550);
      assert.match(r.text, /^5\.7\.1 Relay access denied/);
    }
    const r = await c.command(`RCPT TO:<user@${OURS}>`);
    assert.equal(r.code, 421);
    assert.equal(r.text, '4.7.0 Too many errors, closing connection');
    assert.ok(await c.closedWithin(500));
    c.destroy();
  });
});

test('socket: pipelined garbage hits the error limit: exactly maxErrors error replies, then 421, nothing after', async () => {
  await withHarness({ limits: { maxErrors: 5 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    const junk = ['RCPT TO:<a@ours.example>', 'MAIL FROM:<broken', 'DATA', 'HELO', 'VRFY', 'RCPT TO:<b@ours.example>', 'MAIL FROM:<x'];
    c.write('EHLO client.example\r\n' + Array.from({ length: 40 }, (_, i) => `${junk[i % junk.length]}\r\n`).join(''));
    const replies = await c.rest();
    assert.deepEqual(
      replies.map((r) => r.code),
      [250, 503, 501, 503, 501, 501, 421],
    );
    assert.equal(replies.at(-1)!.text, '4.7.0 Too many errors, closing connection');
    c.destroy();
  });
});

test('socket: messages per connection → the MAIL after maxMessages messages gets 421 4.7.0 and closes', async () => {
  await withHarness({ limits: { maxMessages: 2 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    await expectCode(c.command('EHLO client.example'), 250);
    for (let i = 0; i < 2; i++) {
      await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
      await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
      await expectCode(c.command('DATA'), 354);
      c.write(message(`message ${i}`));
      await expectCode(c.next(), 250);
    }
    const r = await c.command('MAIL FROM:<a@sender.example>');
    assert.equal(r.code, 421);
    assert.match(r.text, /^4\.7\.0 Too many messages in one connection \(at most 2\)/);
    assert.ok(await c.closedWithin(500));
    c.destroy();
    assert.equal(h.outcomes.length, 2);
  });
});

test('socket: SIZE above the limit at MAIL → 552 5.3.4, from smtp-server with size set and from ours without it', async () => {
  for (const noServerSize of [false, true]) {
    await withHarness({ limits: { maxMessageBytes: 10_000 }, noServerSize }, async (h) => {
      const c = await RawClient.connect(h.port);
      await expectCode(c.command('EHLO client.example'), 250);
      const r = await c.command('MAIL FROM:<a@sender.example> SIZE=10001');
      assert.equal(r.code, 552, `noServerSize=${noServerSize}`);
      assert.match(r.text, /^5\.3\.4 /);
      await expectCode(c.command('MAIL FROM:<a@sender.example> SIZE=10000'), 250);
      await expectCode(c.command('QUIT'), 221);
      c.destroy();
      assert.deepEqual(h.mailFroms, ['a@sender.example']);
    });
  }
});

test('socket: a message larger than its declared SIZE, or than the limit, → 552 5.3.4 at end of DATA', async () => {
  await withHarness({ limits: { maxMessageBytes: 4096 } }, async (h) => {
    const c = await RawClient.connect(h.port);
    await c.startData({ size: 100 });
    c.write(message('z'.repeat(400)));
    const r = await c.next();
    assert.equal(r.code, 552);
    assert.match(r.text, /^5\.3\.4 Message of \d+ octets exceeds its declared SIZE=100$/);
    // The session goes on; a message over the fixed limit (no SIZE declared).
    await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
    await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
    await expectCode(c.command('DATA'), 354);
    c.write(message('w'.repeat(5000)));
    const big = await c.next();
    assert.equal(big.code, 552);
    assert.match(big.text, /^5\.3\.4 /);
    // Declared honestly: accepted.
    await expectCode(c.command('MAIL FROM:<a@sender.example> SIZE=200'), 250);
    await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
    await expectCode(c.command('DATA'), 354);
    c.write(message('ok'));
    await expectCode(c.next(), 250);
    c.destroy();
    assert.equal(h.budget.inUse, 0);
  });
});

test('socket: a burst of pipelined commands with invalid ones: one reply per command, in order, state intact', async () => {
  await withHarness({}, async (h) => {
    const c = await RawClient.connect(h.port);
    const burst = [
      ['EHLO client.example', 250],
      ['MAIL FROM:<a@sender.example>', 250],
      ['RCPT TO:<x@elsewhere.example>', 550],
      ['FOO bar', 500],
      [`RCPT TO:<u@${OURS}>`, 250],
      ['MAIL FROM:<b@sender.example>', 503],
      ['RCPT TO:<broken', 501],
      ['NOOP', 250],
      ['DATA', 354],
      ['Subject: p\r\n\r\nhello\r\n.', 250],
      ['RSET', 250],
      ['VRFY', 501],
      ['HELO', 501],
      ['MAIL FROM:<c@sender.example> SIZE=abc', 501],
      [`RCPT TO:<v@${OURS}>`, 503],
      ['MAIL FROM:<d@sender.example>', 250],
      [`RCPT TO:<w@${OURS}>`, 250],
      ['DATA', 354],
      ['Subject: q\r\n\r\n..leading dot\r\nMAIL FROM:<in@body.example>\r\n.', 250],
      ['QUIT', 221],
    ] as const;
    c.write(burst.map(([line]) => `${line}\r\n`).join(''));
    const replies = await c.rest();
    assert.deepEqual(
      replies.map((r) => r.code),
      burst.map(([, code]) => code),
    );
    assert.deepEqual(h.mailFroms, ['a@sender.example', 'd@sender.example']);
    assert.deepEqual(
      h.outcomes.map((o) => o.stored?.toString('latin1')),
      ['Subject: p\r\n\r\nhello\r\n', 'Subject: q\r\n\r\n.leading dot\r\nMAIL FROM:<in@body.example>\r\n'],
    );
    c.destroy();
  });
});

test('socket: the next transaction pipelined with its message before the 354 is answered in full (pipelining-fix.ts)', async () => {
  await withHarness({}, async (h) => {
    const c = await RawClient.connect(h.port);
    await c.startData();
    // Synchronous MAIL/RCPT handlers and no dot-stuffed line: without the fix QUIT is never read.
    c.write(`Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<b@sender.example>\r\nRCPT TO:<user@${OURS}>\r\nDATA\r\nSubject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n`);
    const replies = await c.rest(2000);
    assert.deepEqual(
      replies.map((r) => r.code),
      [250, 250, 250, 354, 250, 221],
    );
    assert.equal(h.outcomes.length, 2);
    c.destroy();
  });
});

test("socket: smtp-server's own limits, as measured (unrecognised commands, command line length)", async () => {
  await withHarness({}, async (h) => {
    {
      // 10 unrecognised commands: hard-coded, not configurable; the 10th gets 421 instead of 500.
      const c = await RawClient.connect(h.port);
      c.write('XYZZY\r\n'.repeat(12));
      const replies = await c.rest();
      assert.deepEqual(
        replies.map((r) => r.code),
        [...Array<number>(9).fill(500), 421],
      );
      c.destroy();
      // A command line over maxCommandLength (16 KiB by default): 421 with smtp-server's 4.4.2 (a timeout code).
      const d = await RawClient.connect(h.port);
      d.write(`NOOP ${'a'.repeat(17 * 1024)}\r\n`);
      const long = await d.rest();
      assert.deepEqual(
        long.map((r) => [r.code, r.text]),
        [[421, '4.4.2 Error: Command line too long']],
      );
      d.destroy();
    }
  });
});
