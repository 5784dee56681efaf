import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryTierTopics, TopicSchemas, Topics, verdict, type MailMeta } from '@portcullis/contract';
import { nextAttempt, temporaryFate } from '../../src/retry/retry.js';
import type { RecipientOutcome } from '../../src/delivery/smtp-delivery.js';
import { sampleMeta } from '@portcullis/contract/testing';

type Decided = MailMeta & { verdict: NonNullable<MailMeta['verdict']> };
const now = new Date('2030-01-01T00:00:00.000Z');
const delays = [60, 300, 900];

function decided(delivery?: MailMeta['delivery']): Decided {
  return {
    ...sampleMeta({ envelope: { rcptTo: ['a@example.test', 'b@example.test', 'c@example.test'] } }),
    verdict: verdict('deliver', 'ok', 'content.verdict', { now }),
    ...(delivery ? { delivery } : {}),
  };
}

const mixed: RecipientOutcome[] = [
  { recipient: 'a@example.test', status: 'delivered', response: '250 ok' },
  { recipient: 'b@example.test', status: 'temporary', code: 451, response: '451 mailbox busy' },
  { recipient: 'c@example.test', status: 'permanent', code: 550, response: '550 no such user' },
];

test('only temporary recipients are pending; the first attempt uses the first delay', () => {
  const input = decided();
  const next = nextAttempt(input, mixed, delays, now);
  assert.ok(next);
  assert.equal(next.notBefore, now.getTime() + 60_000);
  assert.equal(next.topic, RetryTierTopics[0]);
  assert.deepEqual(next.meta.delivery, {
    attempt: 1,
    firstAttemptAt: now.toISOString(),
    notBefore: new Date(now.getTime() + 60_000).toISOString(),
    pending: ['b@example.test'],
    lastError: '451 mailbox busy',
  });
  assert.equal(input.delivery, undefined, 'the input is not modified');
  assert.equal(TopicSchemas[Topics.retry].safeParse(next.meta).success, true, 'the result is a valid retry record');
});

test('attempt increments, firstAttemptAt is kept and the delay follows the schedule', () => {
  const first = '2029-12-31T23:00:00.000Z';
  const next = nextAttempt(decided({ attempt: 2, firstAttemptAt: first, notBefore: first, pending: ['b@example.test'] }), mixed, delays, now);
  assert.ok(next);
  assert.equal(next.meta.delivery?.attempt, 3);
  assert.equal(next.meta.delivery?.firstAttemptAt, first);
  assert.equal(next.notBefore, now.getTime() + 900_000);
  assert.equal(next.topic, RetryTierTopics[2], 'each step of the schedule has its own tier topic');
});

test('past the end of the schedule the last delay repeats', () => {
  for (const attempt of [3, 4, 50]) {
    const next = nextAttempt(decided({ attempt, firstAttemptAt: now.toISOString(), notBefore: now.toISOString(), pending: ['b@example.test'] }), mixed, delays, now);
    assert.equal(next?.notBefore, now.getTime() + 900_000, `attempt ${attempt}`);
  }
});

test('all temporary recipients are kept, in order', () => {
  const results: RecipientOutcome[] = [
    { recipient: 'a@example.test', status: 'temporary', response: 'timeout' },
    { recipient: 'c@example.test', status: 'temporary', code: 421, response: '421 later' },
  ];
  assert.deepEqual(nextAttempt(decided(), results, delays, now)?.meta.delivery?.pending, ['a@example.test', 'c@example.test']);
});

test('null when nothing failed temporarily', () => {
  const done = mixed.filter((r) => r.status !== 'temporary');
  assert.equal(nextAttempt(decided(), done, delays, now), null);
  assert.equal(nextAttempt(decided(), [], delays, now), null);
});

test('past the maximum age temporary failures give up; the delay notice comes once', () => {
  const meta = decided();
  const at = (s: number) => new Date(Date.parse(meta.envelope.receivedAt) + s * 1000);
  const opts = { maxAgeSeconds: 1000, delayNoticeAfterSeconds: 100 };
  assert.deepEqual(temporaryFate(meta, opts, at(50)), { giveUp: false, delayNotice: false });
  assert.deepEqual(temporaryFate(meta, opts, at(150)), { giveUp: false, delayNotice: true });
  const notified = { ...meta, delivery: { attempt: 2, firstAttemptAt: now.toISOString(), notBefore: now.toISOString(), pending: ['b@example.test'], delayNotified: true } };
  assert.deepEqual(temporaryFate(notified, opts, at(150)), { giveUp: false, delayNotice: false });
  assert.deepEqual(temporaryFate(notified, opts, at(1000)), { giveUp: true, delayNotice: false });
  assert.deepEqual(temporaryFate(meta, { ...opts, delayNoticeAfterSeconds: 0 }, at(500)), { giveUp: false, delayNotice: false });
  const next = nextAttempt(meta, mixed, delays, now, { delayNotified: true });
  assert.equal(next?.meta.delivery?.delayNotified, true);
});

test('recipients held by an open circuit do not spend an attempt', () => {
  const held: RecipientOutcome[] = [{ recipient: 'b@example.test', status: 'temporary', response: 'circuit open', circuitOpen: true }];
  const first = nextAttempt(decided(), held, delays, now);
  assert.equal(first?.meta.delivery?.attempt, 0);
  assert.equal(first?.topic, RetryTierTopics[0]);
  const later = nextAttempt(decided({ attempt: 2, firstAttemptAt: now.toISOString(), notBefore: now.toISOString(), pending: ['b@example.test'] }), held, delays, now);
  assert.equal(later?.meta.delivery?.attempt, 2);
  assert.equal(later?.topic, RetryTierTopics[1], 'waits in the tier of the attempt it is at');
});
