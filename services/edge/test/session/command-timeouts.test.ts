/**
 * Command-phase timeouts (command-timeouts.ts) over real sockets against smtp-server with the
 * session guard attached, as the edge wires it. Limits are a second or two here; the bounds on
 * the measured times are generous (the machine is shared), the lower bounds exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandTimeouts } from '../../src/session/command-timeouts.js';
import { OURS, RawClient, eventually, expectCode, withHarness } from '../smtp-harness.js';

/** Writes `text` one byte every `everyMs` until the connection ends; returns a stop function and the count. */
function drip(c: RawClient, text: string, everyMs: number): { stop: () => void; sent: () => number } {
  let i = 0;
  const timer = setInterval(() => {
    if (c.ended) return clearInterval(timer);
    c.write(text[i % text.length]!);
    i++;
  }, everyMs);
  return { stop: () => clearInterval(timer), sent: () => i };
}

/** Drips a line that never ends and returns the reply that cut it, with the time it took. */
async function cutWhileDripping(c: RawClient, waitMs: number): Promise<{ code: number; text: string; elapsed: number; bytes: number }> {
  const started = Date.now();
  const d = drip(c, 'NOOP-never-ending-', 150);
  try {
    const reply = await c.next(waitMs);
    return { code: reply.code, text: reply.text, elapsed: Date.now() - started, bytes: d.sent() };
  } finally {
    d.stop();
  }
}

const fast = { greetingMs: 1000, mailMs: 1000, rcptMs: 2500, dataInitiationMs: 1000, dataBlockMs: 1000, stressedPreMailMs: 1000 };

test('timeouts above the RFC 5321 4.5.3.2 minimums are refused at construction', () => {
  assert.throws(() => new CommandTimeouts({ mailMs: 5 * 60_000 + 1 }), /mailMs/);
  assert.throws(() => new CommandTimeouts({ dataInitiationMs: 2 * 60_000 + 1 }), /dataInitiationMs/);
  assert.throws(() => new CommandTimeouts({ dataBlockMs: 0 }), /dataBlockMs/);
  assert.equal(new CommandTimeouts().options.mailMs, 60_000);
});

test('greeting: a client dripping bytes without ever ending a line is cut at greetingMs (421 4.4.2), not by the idle timeout', async () => {
  await withHarness({ commandTimeouts: fast, socketTimeout: 10_000 }, async (h) => {
    const c = await RawClient.connect(h.port);
    const r = await cutWhileDripping(c, 6000);
    assert.equal(r.code, 421);
    assert.match(r.text, /^4\.4\.2 Timeout waiting for the first command/);
    assert.ok(r.elapsed >= 950 && r.elapsed < 5000, `cut after ${r.elapsed} ms`);
    assert.ok(r.bytes >= 5, `it kept sending (${r.bytes} bytes) and each byte would have reset the idle timeout`);
    assert.ok(await c.closedWithin(2000), 'closed');
    assert.deepEqual(
      h.timedOut.map((t) => t.phase),
      ['greeting'],
    );
  });
});

test('before MAIL: a dripper after EHLO is cut at mailMs; after MAIL the longer rcptMs applies', async () => {
  await withHarness({ commandTimeouts: fast, socketTimeout: 10_000 }, async (h) => {
    const a = await RawClient.connect(h.port);
    await expectCode(a.command('EHLO dripper.example'), 250);
    const before = await cutWhileDripping(a, 6000);
    assert.equal(before.code, 421);
    assert.match(before.text, /^4\.4\.2 Timeout waiting for a command \(1 s\)/);
    assert.ok(before.elapsed >= 950 && before.elapsed < 2400, `pre-MAIL cut after ${before.elapsed} ms`);

    const b = await RawClient.connect(h.port);
    await expectCode(b.command('EHLO sender.example'), 250);
    await expectCode(b.command('MAIL FROM:<a@sender.example>'), 250);
    const inside = await cutWhileDripping(b, 8000);
    assert.equal(inside.code, 421);
    assert.ok(inside.elapsed >= 2450 && inside.elapsed < 7000, `in-transaction cut after ${inside.elapsed} ms (rcptMs 2500)`);
    assert.deepEqual(
      h.timedOut.map((t) => t.phase),
      ['mail', 'rcpt'],
    );
  });
});

test('DATA: nothing after 354 is cut at dataInitiationMs; a stall in the middle at dataBlockMs (within a quarter more)', async () => {
  await withHarness({ commandTimeouts: fast, socketTimeout: 10_000, limits: { dataTimeoutMs: 60_000 } }, async (h) => {
    const a = await RawClient.connect(h.port);
    await a.startData();
    let started = Date.now();
    const silent = await a.next(6000);
    assert.equal(silent.code, 421);
    assert.match(silent.text, /^4\.4\.2 Timeout waiting for message data/);
    assert.ok(Date.now() - started >= 950 && Date.now() - started < 5000);

    const b = await RawClient.connect(h.port);
    await b.startData();
    b.write(`Subject: stall\r\n\r\n`);
    await sleep(600);
    b.write('still here\r\n');
    started = Date.now();
    const stalled = await b.next(6000);
    const elapsed = Date.now() - started;
    assert.equal(stalled.code, 421);
    assert.match(stalled.text, /^4\.4\.2 Timeout waiting for more message data/);
    assert.ok(elapsed >= 950 && elapsed < 5000, `stall cut ${elapsed} ms after the last data (dataBlockMs 1000, looked at every 250 ms)`);
    assert.deepEqual(
      h.timedOut.map((t) => t.phase),
      ['data-initiation', 'data-block'],
    );
    assert.equal(h.outcomes.length, 2, 'both DATA streams ended (aborted), none stored');
    assert.ok(h.outcomes.every((o) => o.stored === null));
  });
});

test('a client that never completes the STARTTLS handshake is cut at mailMs (nothing can be written mid-handshake: closed)', async () => {
  await withHarness({ commandTimeouts: fast, socketTimeout: 10_000, starttls: true }, async (h) => {
    const c = await RawClient.connect(h.port);
    await expectCode(c.command('EHLO stalling.example'), 250);
    await expectCode(c.command('STARTTLS'), 220);
    const started = Date.now();
    assert.ok(await c.closedWithin(6000), 'closed');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 950 && elapsed < 5000, `closed after ${elapsed} ms, not at the 10 s handshake idle timeout`);
    assert.deepEqual(
      h.timedOut.map((t) => t.phase),
      ['mail'],
    );
  });
});

test('an honest client is never cut: each complete line restarts the clock, and our own slow replies are not its time', async () => {
  // MAIL is answered after 1.8 s (a slow look-up) while the limits are 1 s.
  await withHarness({ commandTimeouts: fast, socketTimeout: 10_000, mailDelayMs: 1800 }, async (h) => {
    const c = await RawClient.connect(h.port);
    await expectCode(c.command('EHLO slow.example'), 250);
    for (let i = 0; i < 4; i++) {
      await sleep(600);
      await expectCode(c.command('NOOP'), 250);
    }
    await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
    await sleep(600);
    await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
    await sleep(600);
    await expectCode(c.command('DATA'), 354);
    await sleep(600);
    c.write('Subject: slow but honest\r\n\r\n');
    await sleep(600);
    c.write('body\r\n.\r\n');
    await expectCode(c.next(), 250);
    await sleep(600);
    await expectCode(c.command('QUIT'), 221);
    assert.deepEqual(h.timedOut, []);
  });
});

test('under pressure the pre-MAIL limit shrinks for sessions already waiting; authenticated sessions keep theirs', async () => {
  // 10 slots, stress from 3 open sessions; pre-MAIL 5 s normally, 1 s under stress.
  await withHarness(
    {
      auth: true,
      maxClients: 10,
      reclaim: { stressAtFraction: 0.3, atFraction: 1 },
      commandTimeouts: { ...fast, greetingMs: 5000, mailMs: 5000, stressedPreMailMs: 1000 },
      socketTimeout: 10_000,
    },
    async (h) => {
      const idle = await RawClient.connect(h.port);
      await expectCode(idle.command('EHLO idle.example'), 250);
      const user = await RawClient.connect(h.port);
      await expectCode(user.command('EHLO user.example'), 250);
      await expectCode(user.command(`AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`), 235);
      assert.equal(h.timeouts.underPressure, false);
      const started = Date.now();
      const third = await RawClient.connect(h.port);
      assert.equal(h.timeouts.underPressure, true, 'three of ten slots: under pressure');
      const cut = await idle.next(4000);
      assert.equal(cut.code, 421);
      assert.match(cut.text, /^4\.4\.2 Timeout waiting for a command \(1 s\)/);
      assert.ok(Date.now() - started < 3500, 'cut at the stressed limit, not the normal 5 s');
      await sleep(500);
      assert.equal(user.ended, false, 'the authenticated session is still open');
      await expectCode(user.command('NOOP'), 250);
      for (const c of [user, third]) c.destroy();
      await eventually(() => h.timeouts.size === 0);
      assert.equal(h.timeouts.underPressure, false, 'pressure gone once the sessions closed');
    },
  );
});
