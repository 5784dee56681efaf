import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMail, decodeMail, RecordError } from '../src/codec.js';
import { Topics } from '../src/topics.js';
import { verdict } from '../src/results.js';
import type { MailMeta } from '../src/record.js';
import { sampleMeta } from '../src/testing.js';

const raw = Buffer.from('Subject: hi\r\n\r\nbody\r\n');

function meta(extra: Partial<MailMeta> = {}): MailMeta {
  return sampleMeta({ size: raw.length, ...extra, envelope: { mailFrom: '', ...extra.envelope } });
}

const v = verdict('deliver', 'ok', 'test', { now: new Date('2030-01-01T00:00:01Z') });
const delivery = {
  attempt: 1,
  firstAttemptAt: '2030-01-01T00:00:02.000Z',
  notBefore: '2030-01-01T00:01:02.000Z',
  pending: ['user@example.test'],
};

const decode = (topic: Parameters<typeof decodeMail>[0], m: MailMeta) => decodeMail(topic, encodeMail({ meta: m, raw }));
const namesPath = (path: string) => (e: unknown) => e instanceof RecordError && e.message.includes(path);

test('accepted topic does not need a verdict', () => {
  assert.equal(decode(Topics.accepted, meta()).meta.verdict, undefined);
});

test('decided topic requires a verdict', () => {
  assert.throws(() => decode(Topics.decided, meta()), namesPath('verdict'));
  assert.deepEqual(decode(Topics.decided, meta({ verdict: v })).meta.verdict, v);
});

test('quarantine topic requires a verdict', () => {
  assert.throws(() => decode(Topics.quarantine, meta()), namesPath('verdict'));
});

test('retry topic requires verdict and delivery', () => {
  assert.throws(() => decode(Topics.retry, meta()), namesPath('verdict'));
  assert.throws(() => decode(Topics.retry, meta({ verdict: v })), namesPath('delivery'));
  assert.throws(() => decode(Topics.retry, meta({ delivery })), namesPath('verdict'));
  const ok = decode(Topics.retry, meta({ verdict: v, delivery }));
  assert.deepEqual(ok.meta.delivery, delivery);
});

test('failed topic requires at least one failure', () => {
  assert.throws(() => decode(Topics.failed, meta({ verdict: v, failures: [] })), namesPath('failures'));
  const failures = [{ recipient: 'user@example.test', code: 550, response: '550 no such user', at: '2030-01-01T00:00:03.000Z' }];
  assert.deepEqual(decode(Topics.failed, meta({ verdict: v, failures })).meta.failures, failures);
});

test('defaults are filled in on decode (results, body, smtputf8)', () => {
  const m = meta() as unknown as Record<string, unknown> & { envelope: Record<string, unknown> };
  delete m.results;
  delete m.envelope.body;
  delete m.envelope.smtputf8;
  const decoded = decode(Topics.accepted, m as unknown as MailMeta);
  assert.deepEqual(decoded.meta.results, []);
  assert.equal(decoded.meta.envelope.body, '7BIT');
  assert.equal(decoded.meta.envelope.smtputf8, false);
});
