import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Verdict, demand, result, type MailMeta } from '@portcullis/contract';
import { decide } from '../src/verdict.js';
import { sampleMeta } from '@portcullis/contract/testing';

const now = new Date('2030-01-01T00:00:00.000Z');

function meta(results: MailMeta['results']): MailMeta {
  return sampleMeta({ results });
}

test('with no results the verdict is deliver, saying no checks are configured', () => {
  const v = decide(meta([]), now);
  assert.deepEqual(v, { action: 'deliver', reason: 'no content checks configured', decidedBy: 'content.verdict', score: 0, at: now.toISOString() });
  assert.equal(Verdict.safeParse(v).success, true);
});

test('with results the scores are summed and counted in the reason', () => {
  const v = decide(
    meta([result('auth', 'auth.spf', 'fail', 'no match', 1.5), result('reputation', 'reputation.dbl', 'info', 'listed', 2), result('auth', 'auth.dkim', 'pass', 'ok')]),
    now,
  );
  assert.equal(v.action, 'deliver');
  assert.equal(v.score, 3.5);
  assert.equal(v.reason, '3 checks, score 3.5');
  assert.equal(v.at, now.toISOString());
});

test('negative scores count too', () => {
  const v = decide(meta([result('reputation', 'reputation.allow', 'pass', 'allow-listed', -5), result('auth', 'auth.spf', 'fail', 'x', 2)]), now);
  assert.equal(v.score, -3);
});

test('a demanded action wins over the score, the strongest demand first, and its reason is the reply', () => {
  const dmarc = demand(result('auth', 'auth.dmarc', 'fail', 'DMARC policy of example.com is reject'), 'reject', '5.7.1');
  const av = demand(result('content', 'content.antivirus', 'error', 'antivirus unavailable'), 'tempfail', '4.7.0');
  const q = demand(result('auth', 'auth.spf', 'fail', 'SPF fail'), 'quarantine', '5.7.1');
  assert.equal(decide(meta([q]), now).action, 'quarantine');
  assert.deepEqual(
    { ...decide(meta([q, av]), now) },
    { action: 'tempfail', reason: 'antivirus unavailable', decidedBy: 'content.antivirus', enhancedCode: '4.7.0', score: 0, at: now.toISOString() },
  );
  const v = decide(meta([q, av, dmarc]), now);
  assert.equal(v.action, 'reject');
  assert.equal(v.enhancedCode, '5.7.1');
  assert.equal(v.reason, 'DMARC policy of example.com is reject');
});
