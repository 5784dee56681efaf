import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { HeaderLimitScanner, watchHeaderLimits, type HeaderLimitOptions } from '../../src/data/header-limits.js';
import { collectMessage } from '../../src/data/collect.js';
import { ByteBudget } from '../../src/data/byte-budget.js';
import { OURS, RawClient, expectCode, startHarness } from '../smtp-harness.js';

const b = (s: string) => Buffer.from(s, 'latin1');
type Kind = 'ok' | 'header-size' | 'line-length';

/**
 * The definition, one octet at a time: a line ends at CR, LF or CRLF; the header section is
 * everything before the first empty line; the first octet that breaks a limit decides.
 */
function reference(msg: Buffer, o: HeaderLimitOptions): { kind: Kind; header: number | null } {
  let inHeader = true;
  let run = 0;
  let prevCr = false;
  let header: number | null = null;
  for (let k = 0; k < msg.length; k++) {
    const c = msg[k]!;
    const isBreak = c === 0x0d || c === 0x0a;
    const absorbed = c === 0x0a && prevCr;
    if (inHeader && isBreak && !absorbed && run === 0) {
      inHeader = false; // the empty line; the header was k octets
      prevCr = c === 0x0d;
      if (k > o.maxHeaderBytes) return { kind: 'header-size', header: null };
      header = k;
      continue;
    }
    if (inHeader && k >= o.maxHeaderBytes) return { kind: 'header-size', header: null };
    if (absorbed) {
      prevCr = false;
      continue;
    }
    prevCr = c === 0x0d;
    if (isBreak) {
      run = 0;
      continue;
    }
    if (++run > o.maxLineLength) return { kind: 'line-length', header: null };
  }
  return { kind: 'ok', header };
}

function scan(chunks: Buffer[], o: HeaderLimitOptions): { kind: Kind; header: number | null } {
  const s = new HeaderLimitScanner(o);
  for (const c of chunks) s.push(c);
  const v = s.end();
  return { kind: v.ok ? 'ok' : (v.refusal.reason as Kind), header: v.ok ? s.headerBytes : null };
}

function splitRandom(buf: Buffer, rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 4 : 40));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const limits = (maxHeaderBytes: number, maxLineLength: number): HeaderLimitOptions => ({ maxHeaderBytes, maxLineLength });

test('line length: 998 octets plus CRLF pass, 999 do not (RFC 5322 2.1.1), in the header and in the body', () => {
  const o = limits(1 << 20, 998);
  const ok = b(`Subject: ${'a'.repeat(989)}\r\n\r\n${'b'.repeat(998)}\r\n${'c'.repeat(998)}`);
  assert.equal(scan([ok], o).kind, 'ok');
  assert.equal(scan([b(`Subject: ${'a'.repeat(990)}\r\n\r\nbody\r\n`)], o).kind, 'line-length');
  assert.equal(scan([b(`Subject: x\r\n\r\n${'b'.repeat(999)}\r\n`)], o).kind, 'line-length');
  assert.equal(scan([b(`Subject: x\r\n\r\nshort\r\n${'b'.repeat(999)}`)], o).kind, 'line-length', 'a last line without line ending counts too');
  const v = new HeaderLimitScanner(o);
  v.push(b(`Subject: x\r\n\r\n${'b'.repeat(999)}\r\n`));
  assert.deepEqual(v.verdict, {
    ok: false,
    refusal: {
      id: 'data.line-too-long',
      reply: { code: 550, enhanced: '5.6.0', text: 'Message has a line longer than 998 octets (RFC 5322 2.1.1)' },
      disconnect: false,
      reason: 'line-length',
    },
  });
});

test('line ends are CR, LF or CRLF, as the normaliser reads them', () => {
  const o = limits(1 << 20, 10);
  assert.equal(scan([b('S: x\r\n\r\n0123456789\n0123456789\r0123456789\r\n')], o).kind, 'ok');
  assert.equal(scan([b('S: x\n\n01234567890\n')], o).kind, 'line-length');
  assert.equal(scan([b('S: x\r\r' + '0123456789\r'.repeat(5))], o).kind, 'ok');
});

test('header section: up to maxHeaderBytes passes, one more octet is 552 5.3.4; no empty line means all header', () => {
  const o = limits(100, 998);
  const header = (n: number) => b(`X: ${'h'.repeat(n - 5)}\r\n`); // n octets
  assert.deepEqual(scan([header(100), b('\r\nbody\r\n')], o), { kind: 'ok', header: 100 });
  assert.equal(scan([header(101), b('\r\nbody\r\n')], o).kind, 'header-size');
  assert.equal(scan([b('X: y\r\n'.repeat(20))], o).kind, 'header-size', 'no empty line: the whole message is header');
  assert.deepEqual(scan([b('X: y\r\n'.repeat(16))], o), { kind: 'ok', header: null }, '96 octets without an empty line');
  assert.deepEqual(scan([b('\r\nbody')], o), { kind: 'ok', header: 0 });
  assert.deepEqual(scan([b('X: y\n\nbody')], o), { kind: 'ok', header: 5 });
  assert.deepEqual(scan([b('X: y\r\rbody')], o), { kind: 'ok', header: 5 }, 'CR CR is an empty line to the normaliser');
  const v = new HeaderLimitScanner(o);
  v.push(header(101));
  assert.deepEqual(v.verdict, {
    ok: false,
    refusal: { id: 'data.header-too-big', reply: { code: 552, enhanced: '5.3.4', text: 'Message header section exceeds 100 octets' }, disconnect: false, reason: 'header-size' },
  });
});

test('a body line of any length does not count against the header section, and a long header line beyond the header limit is a header-size refusal', () => {
  const o = limits(100, 50);
  assert.equal(scan([b(`X: y\r\n\r\n${'b'.repeat(40)}\r\n`.repeat(10))], o).kind, 'ok');
  assert.equal(scan([b(`X: y\r\n${'Y: '.padEnd(60, 'z')}\r\n\r\n`)], o).kind, 'line-length');
  assert.equal(scan([b(`${'X: y\r\n'.repeat(15)}${'Y: '.padEnd(60, 'z')}\r\n\r\n`)], o).kind, 'header-size', 'octet 100 comes first');
});

test('the same verdict and header size as the octet-by-octet definition, however the message is cut into chunks', () => {
  const rnd = prng(20241218);
  const alphabet = ['a', 'a', 'a', 'a', 'a', 'a', ' ', '\r', '\n', '\r\n', '\r\n', '\r\n\r\n', ':'];
  for (let round = 0; round < 3000; round++) {
    const o = limits(Math.floor(rnd() * 60), 1 + Math.floor(rnd() * 30));
    let s = '';
    const len = Math.floor(rnd() * 120);
    while (s.length < len) s += rnd() < 0.3 ? 'a'.repeat(Math.floor(rnd() * 12)) : alphabet[Math.floor(rnd() * alphabet.length)];
    const msg = b(s);
    const want = reference(msg, o);
    const whole = scan([msg], o);
    assert.deepEqual(whole, want, `whole ${JSON.stringify(s)} ${JSON.stringify(o)}`);
    const parts = splitRandom(msg, rnd);
    assert.deepEqual(scan(parts, o), want, `chunks ${JSON.stringify(parts.map((p) => p.toString('latin1')))} ${JSON.stringify(o)}`);
    const bytes = [...msg].map((x) => Buffer.from([x]));
    assert.deepEqual(scan(bytes, o), want, `bytes ${JSON.stringify(s)} ${JSON.stringify(o)}`);
  }
  // Long bodies with every kind of line ending, so that the body's window jumps are exercised.
  const ends = ['\r\n', '\r\n', '\n', '\r', '\r\r\n', '\n\r'];
  for (let round = 0; round < 1500; round++) {
    const o = limits(1000, 1 + Math.floor(rnd() * 30));
    let s = 'S: x\r\n\r\n';
    const len = 100 + Math.floor(rnd() * 600);
    while (s.length < len) s += 'a'.repeat(Math.floor(rnd() * (o.maxLineLength + 2))) + ends[Math.floor(rnd() * ends.length)];
    const msg = b(s);
    const want = reference(msg, o);
    assert.deepEqual(scan([msg], o), want, `body ${JSON.stringify(s)} ${JSON.stringify(o)}`);
    const parts = splitRandom(msg, rnd);
    assert.deepEqual(scan(parts, o), want, `body chunks ${JSON.stringify(parts.map((p) => p.toString('latin1')))} ${JSON.stringify(o)}`);
  }
});

test('when the octet over the line limit is also the first octet over the header limit, the header limit is reported', () => {
  const o = limits(100, 50);
  // Octets 50..100 are one 51-octet line: its 51st octet is octet 100, the first past the header limit.
  const msg = b(`${'A'.repeat(48)}\r\n${'B'.repeat(51)}\r\n\r\nbody`);
  assert.deepEqual(reference(msg, o).kind, 'header-size');
  assert.deepEqual(scan([msg], o).kind, 'header-size');
  const shorter = b(`${'A'.repeat(47)}\r\n${'B'.repeat(51)}\r\n\r\nbody`);
  assert.deepEqual(scan([shorter], o).kind, 'line-length');
});

// Not a speed target (those live in make bench): a guard against the scan turning quadratic,
// which on 25 MiB would take minutes. The bounds are far above the few ms it takes, so a loaded
// machine does not fail it.
test('linear: 25 MiB of base64 lines in 64 KiB chunks scans without quadratic blow-up', () => {
  const line = b(`${'QUJD'.repeat(19)}\r\n`);
  const body = Buffer.concat(Array.from({ length: Math.ceil((25 * 1024 * 1024) / line.length) }, () => line));
  const message = Buffer.concat([b(`From: a@b.example\r\nSubject: big\r\n\r\n`), body]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < message.length; i += 65536) chunks.push(message.subarray(i, i + 65536));
  const run = () => {
    const s = new HeaderLimitScanner({ maxHeaderBytes: 65536, maxLineLength: 998 });
    for (const c of chunks) s.push(c);
    return s.end();
  };
  run(); // warm up
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    assert.equal(run().ok, true);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const best = Math.min(...times);
  console.log(`# 25 MiB base64 body: best ${best.toFixed(2)} ms of ${times.map((x) => x.toFixed(1)).join(', ')}`);
  assert.ok(best < 2000, `took ${best} ms`);
  // Full-length lines and lines ended by bare CR are also linear.
  const long = Buffer.concat(Array.from({ length: 26_000 }, () => b(`${'x'.repeat(998)}\r\n`)));
  const bareCr = Buffer.concat(Array.from({ length: 26_000 }, () => b(`${'x'.repeat(900)}\r`)));
  for (const body2 of [long, bareCr]) {
    const t = process.hrtime.bigint();
    const s = new HeaderLimitScanner({ maxHeaderBytes: 65536, maxLineLength: 998 });
    s.push(b('S: x\r\n\r\n'));
    for (let i = 0; i < body2.length; i += 65536) s.push(body2.subarray(i, i + 65536));
    assert.equal(s.end().ok, true);
    assert.ok(Number(process.hrtime.bigint() - t) / 1e6 < 5000);
  }
});

test('watchHeaderLimits sees every chunk while collectMessage reads the same stream', async () => {
  const msg = `Subject: x\r\n\r\n${'a'.repeat(500)}\r\n${'b'.repeat(1200)}\r\n`;
  const chunks = splitRandom(b(msg), prng(7));
  const stream = Readable.from(chunks, { objectMode: false });
  const scanner = watchHeaderLimits(stream, { maxHeaderBytes: 1000, maxLineLength: 998 });
  const r = await collectMessage(stream, 1 << 20, 'reject', new ByteBudget(1 << 20), { bytes: 0 });
  assert.equal(r.ok, true);
  assert.equal(r.ok && r.message.toString('latin1'), msg);
  assert.equal(scanner.end().ok, false);
  assert.equal(scanner.verdict.ok || scanner.verdict.refusal.reason, 'line-length');
  assert.equal(scanner.headerBytes, 12);
});

// ------------------------------------------------------------------------------------------ over real sockets

test('socket: a header section over the limit → 552 5.3.4; an over-long line → 550 5.6.0; 998-octet lines pass', async () => {
  const h = await startHarness({ headers: { maxHeaderBytes: 2048, maxLineLength: 998 } });
  try {
    const c = await RawClient.connect(h.port);
    await c.startData();
    c.write(`${Array.from({ length: 60 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(40)}\r\n`).join('')}Subject: big header\r\n\r\nbody\r\n.\r\n`);
    const big = await c.next();
    assert.deepEqual([big.code, big.text], [552, '5.3.4 Message header section exceeds 2048 octets']);

    await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
    await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
    await expectCode(c.command('DATA'), 354);
    c.write(`Subject: long line\r\n\r\n${'L'.repeat(999)}\r\n.\r\n`);
    const long = await c.next();
    assert.deepEqual([long.code, long.text], [550, '5.6.0 Message has a line longer than 998 octets (RFC 5322 2.1.1)']);

    await expectCode(c.command('MAIL FROM:<a@sender.example>'), 250);
    await expectCode(c.command(`RCPT TO:<user@${OURS}>`), 250);
    await expectCode(c.command('DATA'), 354);
    c.write(`Subject: ${'S'.repeat(989)}\r\n\r\n${'L'.repeat(998)}\r\n${'.'.repeat(998)}\r\n.\r\n`);
    // The last body line is 998 dots on the wire; smtp-server strips the first as dot-stuffing.
    await expectCode(c.next(), 250);
    await expectCode(c.command('QUIT'), 221);
    c.destroy();
    assert.deepEqual(
      h.outcomes.map((o) => o.limit ?? o.reply.code),
      ['header-size', 'line-length', 250],
    );
    assert.equal(h.budget.inUse, 0);
  } finally {
    await h.close();
  }
});
