/** SPF for MAIL FROM and HELO against the test zones (spf.test), and the policy on each result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { authHarness } from './harness.js';
import { message } from '../src/testing.js';

const skip = await testDnsSkip();
const h = authHarness();
const from = (domain: string) => message({ from: [`Alice <alice@${domain}>`] });

test('SPF pass, softfail, neutral, none: recorded and scored, nothing demanded', { skip }, async () => {
  const cases = [
    ['pass.spf.test', 'pass', 0],
    ['softfail.spf.test', 'softfail', 2],
    ['neutral.spf.test', 'neutral', 0],
    ['none.spf.test', 'none', 0.5],
  ] as const;
  for (const [domain, outcome, score] of cases) {
    const { by } = await h.check(from(domain), { mailFrom: `bounce@${domain}` });
    assert.equal(by['auth.spf']!.outcome, outcome, domain);
    assert.equal(by['auth.spf']!.score, score, domain);
    assert.equal(by['auth.spf']!.action, undefined, domain);
    assert.match(by['auth.spf']!.reason, new RegExp(`spf=${outcome} for ${domain}`));
  }
});

test('SPF fail is rejected by default (550 5.7.23), or quarantined or scored by configuration', { skip }, async () => {
  const envelope = { mailFrom: 'bounce@fail.spf.test' };
  const rejected = (await h.check(from('fail.spf.test'), envelope)).by['auth.spf']!;
  assert.equal(rejected.outcome, 'fail');
  assert.equal(rejected.action, 'reject');
  assert.equal(rejected.enhancedCode, '5.7.23');
  assert.match(rejected.reason, /fail\.spf\.test does not designate this host/);
  const q = await authHarness({ spf: { onFail: 'quarantine' } }).check(from('fail.spf.test'), envelope);
  assert.equal(q.by['auth.spf']!.action, 'quarantine');
  const scored = await authHarness({ spf: { onFail: 'score' } }).check(from('fail.spf.test'), envelope);
  assert.equal(scored.by['auth.spf']!.action, undefined);
  assert.equal(scored.by['auth.spf']!.score, 5);
  const partner = await authHarness({ overrides: [{ domain: 'spf.test', spfFail: 'score' }] }).check(from('fail.spf.test'), envelope);
  assert.equal(partner.by['auth.spf']!.action, undefined, 'a per-domain override covers its subdomains');
});

test('SPF permerror: a syntax error and too many look-ups', { skip }, async () => {
  for (const domain of ['syntax.spf.test', 'toomany.spf.test']) {
    const r = (await h.check(from(domain), { mailFrom: `b@${domain}` })).by['auth.spf']!;
    assert.equal(r.outcome, 'error', domain);
    assert.match(r.reason, /spf=permerror/, domain);
    assert.equal(r.action, undefined);
    assert.equal(r.score, 1);
  }
});

test('SPF temperror (an include that times out, one that SERVFAILs): 451 4.4.3, or on by configuration', { skip }, async () => {
  for (const domain of ['temp.spf.test', 'tempfail.spf.test']) {
    const t0 = Date.now();
    const r = (await h.check(from(domain), { mailFrom: `b@${domain}` })).by['auth.spf']!;
    assert.ok(Date.now() - t0 < 3000, 'bounded by the DNS timeout');
    assert.equal(r.outcome, 'error');
    assert.match(r.reason, /spf=temperror/);
    assert.equal(r.action, 'tempfail');
    assert.equal(r.enhancedCode, '4.4.3');
  }
  const go = (await authHarness({ onTempError: 'continue' }).check(from('temp.spf.test'), { mailFrom: 'b@temp.spf.test' })).by['auth.spf']!;
  assert.equal(go.action, undefined);
  assert.match(go.reason, /continued by configuration/);
});

test('HELO identity: checked beside MAIL FROM; its fail is handled like a MAIL FROM fail', { skip }, async () => {
  const ok = await h.check(from('pass.spf.test'));
  assert.equal(ok.by['auth.spf-helo']!.outcome, 'pass');
  const bad = await h.check(from('pass.spf.test'), { helo: 'badhelo.spf.test' });
  assert.equal(bad.by['auth.spf']!.outcome, 'pass');
  assert.equal(bad.by['auth.spf-helo']!.outcome, 'fail');
  assert.equal(bad.by['auth.spf-helo']!.action, 'reject');
  // The null sender: the HELO identity is the MAIL FROM identity (RFC 7208 2.4), checked once.
  const bounce = await h.check(from('pass.spf.test'), { mailFrom: '', helo: 'mx.spf.test' });
  assert.equal(bounce.by['auth.spf']!.outcome, 'pass');
  assert.equal(bounce.by['auth.spf-helo'], undefined);
});

test('the whole verification has a deadline of its own: past it, 451 4.4.3', { skip }, async () => {
  const hurried = authHarness({ timeoutMs: 100 });
  const t0 = Date.now();
  const { by } = await hurried.check(from('temp.spf.test'), { mailFrom: 'b@temp.spf.test' });
  assert.ok(Date.now() - t0 < 1000, 'ends at its own deadline, not at the DNS timeouts');
  assert.equal(by['auth.spf']!.action, 'tempfail');
  assert.equal(by['auth.spf']!.enhancedCode, '4.4.3');
  assert.match(by['auth.spf']!.reason, /did not finish in 100 ms/);
  for (const c of ['auth.dkim', 'auth.dmarc', 'auth.arc', 'auth.bimi']) assert.equal(by[c]!.outcome, 'error');
});
