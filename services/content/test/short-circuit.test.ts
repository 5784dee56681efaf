/**
 * decidedReject (@portcullis/contract) against the verdict it predicts: whatever the skipped
 * stages would have added, the verdict with their `skip` results instead has the same action,
 * reason, deciding check and code; only the score may lack what they would have added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidedReject, demand, result, skippedFor, type CheckResult } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { decide } from '../src/verdict.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const dmarcReject = demand(result('auth', 'auth.dmarc', 'fail', 'Rejected: DMARC policy of x.test', 0, now), 'reject', '5.7.1');
const spfTempfail = demand(result('auth', 'auth.spf', 'error', 'Temporary authentication failure', 0, now), 'tempfail', '4.4.3');
const dmarcQuarantine = demand(result('auth', 'auth.dmarc', 'fail', 'held by DMARC', 0, now), 'quarantine', '5.7.1');
const inbound = { auth: null };
const outbound = { auth: { mechanism: 'PLAIN', user: 'alice@example.test' } };

/** What the later stages might have added: nothing, a pass, a virus (content reject), a tempfail, an allow-list bonus. */
const LATER: CheckResult[][] = [
  [],
  [result('content', 'content.antivirus', 'pass', 'clean', 0, now)],
  [demand(result('content', 'content.antivirus', 'fail', 'virus found', 0, now), 'reject', '5.7.1')],
  [demand(result('content', 'content.antivirus', 'error', 'clamd down', 0, now), 'tempfail', '4.3.0')],
  [result('reputation', 'reputation.local', 'pass', 'allow-listed', -100, now), result('content', 'content.antispam', 'info', 'rspamd', 30, now)],
];

const essence = (v: ReturnType<typeof decide>) => ({ action: v.action, reason: v.reason, decidedBy: v.decidedBy, enhancedCode: v.enhancedCode });

test('a demanded reject decides; a tempfail, a quarantine, a score or nothing does not', () => {
  assert.equal(decidedReject([spfTempfail, dmarcReject], false), dmarcReject);
  assert.equal(decidedReject([dmarcQuarantine, dmarcReject], false), dmarcReject);
  assert.equal(decidedReject([spfTempfail, dmarcQuarantine], false), undefined);
  assert.equal(decidedReject([result('reputation', 'reputation.uribl', 'fail', 'listed', 1000, now)], false), undefined);
  assert.equal(decidedReject([], false), undefined);
});

test("an outgoing message's content reject is held, not rejected: it decides nothing, even before another stage's reject", () => {
  const contentReject = demand(result('content', 'content.extra', 'fail', 'found', 0, now), 'reject', '5.7.1');
  assert.equal(decidedReject([contentReject], true), undefined);
  assert.equal(decidedReject([contentReject, dmarcReject], true), undefined);
  assert.equal(decidedReject([contentReject], false), contentReject);
});

test('skipping the later stages never changes the verdict, inbound or outbound', () => {
  for (const envelope of [inbound, outbound]) {
    for (const earlier of [[dmarcReject], [spfTempfail, dmarcReject], [dmarcQuarantine, dmarcReject]]) {
      const by = decidedReject(earlier, envelope.auth !== null);
      assert.ok(by);
      const skipped = [skippedFor('reputation', 'reputation.checks', by, now), skippedFor('content', 'content.antivirus', by, now)];
      const withSkip = decide(sampleMeta({ envelope, results: [...earlier, ...skipped] }), now);
      assert.equal(withSkip.action, 'reject');
      for (const later of LATER) {
        const full = decide(sampleMeta({ envelope, results: [...earlier, ...later] }), now);
        assert.deepEqual(essence(withSkip), essence(full), JSON.stringify(later));
      }
    }
  }
});
