/** Sender history: decay, expiry, scoring, and learning from decided records, in the real Redis. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConfigSchema } from '@portcullis/config';
import { sampleMeta } from '@portcullis/contract/testing';
import { verdict, type MailRecord, type VerdictAction } from '@portcullis/contract';
import { RedisState, MemoryState, type SharedState } from '@portcullis/state';
import { TEST_REDIS_URL, sharedRedisSkip } from '@portcullis/state/testing';
import { SenderHistory, decayed, historySubjects } from '../src/sender-history.js';
import { recordOne } from '../src/history-recorder.js';

const skip = await sharedRedisSkip();
const config = ConfigSchema.shape.reputation.parse({}).history;

function decided(action: VerdictAction, ip: string, extra: Partial<Parameters<typeof sampleMeta>[0]> = {}): MailRecord {
  const id = `01J${randomUUID()
    .replace(/-/g, '')
    .toUpperCase()
    .replace(/[ILOU]/g, 'A')
    .slice(0, 23)}`;
  return {
    meta: sampleMeta({ id, envelope: { client: { ip, port: 1 } }, verdict: verdict(action, 'test', 'content.verdict'), ...extra }),
    raw: Buffer.from('From: a@sender.example\r\n\r\nx\r\n'),
  };
}

async function withRedis(fn: (state: SharedState) => Promise<void>) {
  const state = new RedisState({ url: TEST_REDIS_URL, keyPrefix: `test-history-${randomUUID()}:` });
  try {
    await fn(state);
  } finally {
    await state.close();
  }
}

test('history moves the score: new, then a spammer, then a clean sender', { skip }, async () => {
  await withRedis(async (state) => {
    const h = new SenderHistory(state, config);
    const spammer = '198.51.100.7';
    const clean = '198.51.100.8';
    assert.equal(h.score(`ip:${spammer}`, await h.read(`ip:${spammer}`)).score, config.newSenderWeight);
    for (let i = 0; i < 4; i++) assert.ok(await recordOne({ state, history: h }, decided(i % 2 ? 'quarantine' : 'reject', spammer)));
    const bad = h.score(`ip:${spammer}`, await h.read(`ip:${spammer}`));
    assert.equal(bad.outcome, 'fail');
    assert.equal(bad.score, config.badRatioWeight);
    for (let i = 0; i < 5; i++) await recordOne({ state, history: h }, decided('deliver', clean));
    const good = h.score(`ip:${clean}`, await h.read(`ip:${clean}`));
    assert.equal(good.outcome, 'pass');
    assert.equal(good.score, config.goodSenderWeight);
    assert.ok((await state.ttl(`history:ip:${clean}`))! > 29 * 86400, 'forgotten after expiryDays');
  });
});

test('a decided record read twice is counted once; tempfail teaches nothing', { skip }, async () => {
  await withRedis(async (state) => {
    const h = new SenderHistory(state, config);
    const rec = decided('deliver', '198.51.100.9');
    assert.equal(await recordOne({ state, history: h }, rec), true);
    assert.equal(await recordOne({ state, history: h }, rec), false);
    assert.equal(await recordOne({ state, history: h }, decided('tempfail', '198.51.100.9')), false);
    assert.equal(Math.round((await h.read('ip:198.51.100.9'))!.delivered * 1000) / 1000, 1);
  });
});

test('counts halve every half-life', () => {
  const c = decayed({ delivered: 8, spam: 4, rejected: 2, t: 0 }, 7 * 86_400_000, 7);
  assert.deepEqual([c.delivered, c.spam, c.rejected], [4, 2, 1]);
});

test('old spam fades: a sender recovers as its history decays', async () => {
  let now = 0;
  const h = new SenderHistory(new MemoryState({ maxEntries: 10, now: () => now }), config, () => now);
  for (let i = 0; i < 5; i++) await h.record('ip:x', 'spam');
  assert.equal(h.score('ip:x', await h.read('ip:x')).outcome, 'fail');
  now = 28 * 86_400_000; // four half-lives: 5 -> 0.31 messages
  assert.equal(h.score('ip:x', await h.read('ip:x')).outcome, 'neutral');
});

test('only authenticated sender domains are tracked', () => {
  const base = sampleMeta({ envelope: { mailFrom: 'a@mail.sender.example' } });
  assert.deepEqual(historySubjects(base, 'sender.example'), ['ip:192.0.2.1']);
  const spf = { ...base, results: [{ stage: 'auth', check: 'auth.spf', outcome: 'pass' as const, score: 0, reason: '', at: base.envelope.receivedAt }] };
  assert.deepEqual(historySubjects(spf, null), ['ip:192.0.2.1', 'domain:sender.example']);
  const dmarc = { ...base, results: [{ ...spf.results[0]!, check: 'auth.dmarc' }] };
  assert.deepEqual(historySubjects(dmarc, 'from.example'), ['ip:192.0.2.1', 'domain:from.example']);
});
