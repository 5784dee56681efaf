import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMail, decodeMail, RecordError } from '../src/codec.js';
import { Topics } from '../src/topics.js';
import type { MailMeta } from '../src/record.js';
import { sampleMeta } from '../src/testing.js';

function meta(size: number): MailMeta {
  return sampleMeta({ size });
}

/** Every octet value, then LF, CRLF and a second copy: the message part must survive untouched. */
function binaryMessage(): Buffer {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  return Buffer.concat([Buffer.from('Subject: x\n\n'), all, Buffer.from('\n\r\nline\n'), all]);
}

test('encode/decode round trip keeps binary message bytes, including LF and 0x00-0xff', () => {
  const raw = binaryMessage();
  const m = meta(raw.length);
  const decoded = decodeMail(Topics.accepted, encodeMail({ meta: m, raw }));
  assert.deepEqual(decoded.meta, m);
  assert.ok(decoded.raw.equals(raw));
  assert.equal(decoded.raw.length, raw.length);
});

test('encoded value is one JSON line, LF, then the raw octets', () => {
  const raw = Buffer.from('a\nb');
  const value = encodeMail({ meta: meta(raw.length), raw });
  const lf = value.indexOf(0x0a);
  assert.deepEqual(JSON.parse(value.subarray(0, lf).toString('utf8')), meta(raw.length));
  assert.ok(value.subarray(lf + 1).equals(raw));
});

test('empty message body round-trips', () => {
  const raw = Buffer.alloc(0);
  const decoded = decodeMail(Topics.accepted, encodeMail({ meta: meta(0), raw }));
  assert.equal(decoded.raw.length, 0);
});

test('decode of an empty or null value throws RecordError', () => {
  assert.throws(
    () => decodeMail(Topics.accepted, Buffer.alloc(0)),
    (e: unknown) => e instanceof RecordError && /empty/.test(e.message),
  );
  assert.throws(() => decodeMail(Topics.accepted, null), RecordError);
});

test('decode without the LF separator throws RecordError', () => {
  const value = Buffer.from(JSON.stringify(meta(0)));
  assert.throws(
    () => decodeMail(Topics.accepted, value),
    (e: unknown) => e instanceof RecordError && /separator/.test(e.message),
  );
});

test('decode of metadata that is not JSON throws RecordError', () => {
  const value = Buffer.from('{not json\nbody');
  assert.throws(
    () => decodeMail(Topics.accepted, value),
    (e: unknown) => e instanceof RecordError && /not JSON/.test(e.message),
  );
});

test('decode of metadata failing the schema throws RecordError naming the path', () => {
  const bad = meta(0) as unknown as { envelope: { client: { port: number } } };
  bad.envelope.client.port = 70000;
  const value = Buffer.concat([Buffer.from(JSON.stringify(bad)), Buffer.from('\n')]);
  assert.throws(
    () => decodeMail(Topics.accepted, value),
    (e: unknown) => e instanceof RecordError && e.name === 'RecordError' && e.message.includes('envelope.client.port'),
  );
});

test('decode with a size that does not match the message throws RecordError', () => {
  const value = encodeMail({ meta: meta(10), raw: Buffer.from('12345') });
  assert.throws(
    () => decodeMail(Topics.accepted, value),
    (e: unknown) => e instanceof RecordError && /5 octets/.test(e.message) && /says 10/.test(e.message),
  );
});
