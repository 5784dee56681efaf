import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { findBareLineEnding, normalizeLineEndings, collectMessage, LineEndingScan, LineEndingNormalizer } from '../../src/data/collect.js';
import { ByteBudget } from '../../src/data/byte-budget.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('clean CRLF text has no bare line ending', () => {
  assert.equal(findBareLineEnding(b('')), -1);
  assert.equal(findBareLineEnding(b('Subject: x\r\n\r\nline one\r\nline two\r\n')), -1);
  assert.equal(findBareLineEnding(b('no line ending at all')), -1);
});

test('bare LF, bare CR, CR at the end, LF at the start and NUL are found at their offset', () => {
  assert.equal(findBareLineEnding(b('ab\r\ncd\nef\r\n')), 6);
  assert.equal(findBareLineEnding(b('ab\r\ncd\ref\r\n')), 6);
  assert.equal(findBareLineEnding(b('ab\r\ncd\r')), 6);
  assert.equal(findBareLineEnding(b('\nab\r\n')), 0);
  assert.equal(findBareLineEnding(b('ab\0cd\r\n')), 2);
  assert.equal(findBareLineEnding(b('ab\r\r\n')), 2);
  assert.equal(findBareLineEnding(b('ab\n\r\n')), 2);
});

test('the earliest problem is reported when there are several', () => {
  assert.equal(findBareLineEnding(b('a\rb\nc\0')), 1);
  assert.equal(findBareLineEnding(b('a\nb\rc\0')), 1);
  assert.equal(findBareLineEnding(b('a\0b\rc\n')), 1);
});

test('normalize turns bare CR and bare LF each into CRLF and leaves CRLF alone', () => {
  assert.equal(normalizeLineEndings(b('a\nb\rc\r\nd')).toString('latin1'), 'a\r\nb\r\nc\r\nd');
  assert.equal(normalizeLineEndings(b('\n\n')).toString('latin1'), '\r\n\r\n');
  assert.equal(normalizeLineEndings(b('\r\r\n')).toString('latin1'), '\r\n\r\n');
  assert.equal(normalizeLineEndings(b('a\r')).toString('latin1'), 'a\r\n');
  const clean = b('a\r\nb\r\n');
  assert.equal(normalizeLineEndings(clean), clean, 'clean input is returned as is');
  assert.equal(findBareLineEnding(normalizeLineEndings(b('x\ny\rz\n\r'))), -1);
});

const stream = (chunks: string[]) => Readable.from(chunks.map(b));

test('collectMessage joins the chunks of a clean message', async () => {
  const r = await collectMessage(stream(['Subject: x\r', '\n\r\nbody\r\n']), 1_000, 'reject', new ByteBudget(1 << 30), { bytes: 0 });
  assert.deepEqual(r, { ok: true, message: b('Subject: x\r\n\r\nbody\r\n') });
});

test('collectMessage over the limit gives too-big', async () => {
  const r = await collectMessage(stream(['12345\r\n', '12345\r\n']), 10, 'reject', new ByteBudget(1 << 30), { bytes: 0 });
  assert.deepEqual(r, { ok: false, reason: 'too-big' });
  assert.deepEqual(await collectMessage(stream(['1234567890']), 10, 'reject', new ByteBudget(1 << 30), { bytes: 0 }), { ok: true, message: b('1234567890') });
});

test("collectMessage honours smtp-server's sizeExceeded flag", async () => {
  const s = Object.assign(stream(['small\r\n']), { sizeExceeded: true });
  assert.deepEqual(await collectMessage(s, 1_000, 'reject', new ByteBudget(1 << 30), { bytes: 0 }), { ok: false, reason: 'too-big' });
});

test("collectMessage with a bare LF and 'reject' gives bare-line-ending", async () => {
  const r = await collectMessage(stream(['Subject: x\n', '\r\nbody\r\n']), 1_000, 'reject', new ByteBudget(1 << 30), { bytes: 0 });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'bare-line-ending');
});

test("collectMessage with 'normalize' gives normalized bytes", async () => {
  const r = await collectMessage(stream(['Subject: x\n', '\nbody\rmore\r\n']), 1_000, 'normalize', new ByteBudget(1 << 30), { bytes: 0 });
  assert.deepEqual(r, { ok: true, message: b('Subject: x\r\n\r\nbody\r\nmore\r\n') });
});

test('collectMessage refuses a NUL even when normalizing', async () => {
  const r = await collectMessage(stream(['a\0b\r\n']), 1_000, 'normalize', new ByteBudget(1 << 30), { bytes: 0 });
  assert.deepEqual(r, { ok: false, reason: 'bare-line-ending', detail: 'NUL' });
});

test('collectMessage reports a stream error', async () => {
  const s = new Readable({
    read() {
      this.destroy(new Error('connection reset'));
    },
  });
  assert.deepEqual(await collectMessage(s, 1_000, 'reject', new ByteBudget(1 << 30), { bytes: 0 }), { ok: false, reason: 'stream-error', detail: 'connection reset' });
});

test('collectMessage stops holding bytes when the shared budget is spent, and reports what it holds', async () => {
  const budget = new ByteBudget(12);
  const held = { bytes: 0 };
  const r = await collectMessage(stream(['12345\r\n', '12345\r\n', '12345\r\n']), 1_000, 'reject', budget, held);
  assert.deepEqual(r, { ok: false, reason: 'memory-full' });
  assert.equal(held.bytes, 7, 'only what fitted was taken');
  assert.equal(budget.inUse, 7);
  budget.give(held.bytes);
  assert.equal(budget.inUse, 0);
  const again = { bytes: 0 };
  assert.equal((await collectMessage(stream(['12345\r\n']), 1_000, 'reject', budget, again)).ok, true);
  assert.equal(again.bytes, 7);
});

test('collectMessage scans chunk by chunk: a CR that ends a chunk is settled by the next one', async () => {
  // Every way to cut each message into two chunks finds what one pass over the whole finds.
  for (const text of ['ab\r\ncd\r\n', 'ab\r', 'ab\rcd\r\n', 'a\r\r\nb', '\nab\r\n', 'ab\n\r\n', 'a\r\n\nb']) {
    const whole = b(text);
    for (let cut = 1; cut < whole.length; cut++) {
      const scan = new LineEndingScan();
      scan.feed(whole.subarray(0, cut));
      scan.feed(whole.subarray(cut));
      scan.end();
      assert.equal(scan.bad, findBareLineEnding(whole), `${JSON.stringify(text)} cut at ${cut}`);
      const n = new LineEndingNormalizer();
      const parts = [...n.feed(whole.subarray(0, cut)), ...n.feed(whole.subarray(cut)), ...n.end()];
      assert.equal(Buffer.concat(parts).toString('latin1'), normalizeLineEndings(whole).toString('latin1'), `${JSON.stringify(text)} cut at ${cut}`);
    }
  }
});
