/** DMARC against the test zones: policies, alignment (relaxed and strict), sp=, pct=, several From, BIMI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { authHarness } from './harness.js';
import { message, sign } from '../src/testing.js';

const skip = await testDnsSkip();
const h = authHarness();
/** MAIL FROM passes SPF but at another domain: DMARC can only pass by an aligned DKIM signature. */
const unaligned = { mailFrom: 'bounce@pass.spf.test' };
const from = (addr: string) => message({ from: [`Alice <${addr}>`] });

test('p=reject: an unauthenticated message is rejected (550 5.7.1) with the reason', { skip }, async () => {
  const r = (await h.check(from('alice@dmarc-reject.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(r.outcome, 'fail');
  assert.equal(r.action, 'reject');
  assert.equal(r.enhancedCode, '5.7.1');
  assert.match(r.reason, /DMARC policy of dmarc-reject\.test rejects unauthenticated mail from dmarc-reject\.test/);
});

test('p=quarantine quarantines, p=none records only', { skip }, async () => {
  const q = (await h.check(from('alice@dmarc-quarantine.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(q.action, 'quarantine');
  const n = (await h.check(from('alice@dmarc-none.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(n.outcome, 'fail');
  assert.equal(n.action, undefined);
  assert.equal(n.score, 3);
});

test('aligned identifiers pass: DKIM (relaxed, from a subdomain) and SPF', { skip }, async () => {
  const dkim = await h.check(await sign(from('alice@mail.dmarc-reject.test'), 'dmarc-reject.test'), unaligned);
  assert.equal(dkim.by['auth.dmarc']!.outcome, 'pass');
  const spf = await h.check(from('alice@dmarc-reject.test'), { mailFrom: 'bounce@dmarc-reject.test' });
  assert.equal(spf.by['auth.spf']!.outcome, 'pass');
  assert.equal(spf.by['auth.dmarc']!.outcome, 'pass');
  assert.equal(spf.by['auth.dmarc']!.action, undefined);
});

test('strict alignment (adkim=s, aspf=s): the organisational domain is not enough', { skip }, async () => {
  const r = await h.check(await sign(from('alice@sub.dmarc-strict.test'), 'dmarc-strict.test'), { mailFrom: 'bounce@dmarc-strict.test' });
  assert.equal(r.by['auth.dkim']!.outcome, 'pass');
  assert.equal(r.by['auth.spf']!.outcome, 'pass');
  assert.equal(r.by['auth.dmarc']!.outcome, 'fail');
  assert.equal(r.by['auth.dmarc']!.action, 'reject');
  const exact = await h.check(await sign(from('alice@dmarc-strict.test'), 'dmarc-strict.test'), unaligned);
  assert.equal(exact.by['auth.dmarc']!.outcome, 'pass');
});

test('subdomain policy: sp=reject applies to a subdomain, p=none to the domain itself', { skip }, async () => {
  const sub = (await h.check(from('alice@child.dmarc-sub.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(sub.action, 'reject');
  const top = (await h.check(from('alice@dmarc-sub.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(top.outcome, 'fail');
  assert.equal(top.action, undefined);
});

test('pct=50: inside the sample the policy, outside it the next weaker one', { skip }, async () => {
  const inside = (await authHarness({}, { random: () => 0.1 }).check(from('alice@dmarc-pct.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(inside.action, 'reject');
  const outside = (await authHarness({}, { random: () => 0.9 }).check(from('alice@dmarc-pct.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(outside.action, 'quarantine');
  const ignored = (await authHarness({ dmarc: { applyPct: false } }, { random: () => 0.9 }).check(from('alice@dmarc-pct.test'), unaligned)).by['auth.dmarc']!;
  assert.equal(ignored.action, 'reject');
});

test('per-domain override: quarantine instead of reject for a partner', { skip }, async () => {
  const partner = authHarness({ overrides: [{ domain: 'dmarc-reject.test', dmarc: 'quarantine' }] });
  assert.equal((await partner.check(from('alice@dmarc-reject.test'), unaligned)).by['auth.dmarc']!.action, 'quarantine');
  const all = authHarness({ dmarc: { onFail: 'none' } });
  assert.equal((await all.check(from('alice@dmarc-reject.test'), unaligned)).by['auth.dmarc']!.action, undefined);
});

test('several From headers, several addresses in From, no From: a DMARC failure, rejected by default', { skip }, async () => {
  const cases = {
    'two From headers': message({ from: ['alice@dmarc-none.test', 'mallory@dmarc-none.test'] }),
    'two addresses': message({ from: ['alice@dmarc-none.test, mallory@spf.test'] }),
    'no From': message({ from: [] }),
  };
  for (const [what, raw] of Object.entries(cases)) {
    const r = (await h.check(raw, { mailFrom: 'bounce@dmarc-none.test' })).by['auth.dmarc']!;
    assert.equal(r.outcome, 'fail', what);
    assert.equal(r.action, 'reject', what);
    assert.equal(r.enhancedCode, '5.7.1', what);
    assert.match(r.reason, /RFC 7489 6\.6\.1/, what);
  }
  const lenient = authHarness({ dmarc: { onInvalidFrom: 'quarantine' } });
  assert.equal((await lenient.check(cases['no From'])).by['auth.dmarc']!.action, 'quarantine');
});

test('BIMI: looked up for a passing message of a domain with an enforcing policy', { skip }, async () => {
  const r = await h.check(await sign(from('alice@dmarc-reject.test'), 'dmarc-reject.test'), unaligned);
  assert.equal(r.by['auth.bimi']!.outcome, 'pass');
  assert.match(r.by['auth.bimi']!.reason, /l=https:\/\/dmarc-reject\.test\/logo\.svg/);
  const none = await h.check(await sign(from('alice@dmarc-none.test'), 'dmarc-none.test'), unaligned);
  assert.equal(none.by['auth.bimi']!.outcome, 'none');
});
