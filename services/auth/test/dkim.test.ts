/** DKIM against the test zones (dkim.test): RSA and Ed25519, broken signatures, missing and revoked keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { authHarness } from './harness.js';
import { message, sign } from '../src/testing.js';

const skip = await testDnsSkip();
const h = authHarness();
const original = () => message({ from: ['Alice <alice@dkim.test>'] });

test('valid RSA and Ed25519 signatures pass', { skip }, async () => {
  for (const selector of ['rsa', 'ed'] as const) {
    const { by } = await h.check(await sign(original(), 'dkim.test', selector));
    assert.equal(by['auth.dkim']!.outcome, 'pass', selector);
    assert.match(by['auth.dkim']!.reason, new RegExp(`dkim.test/${selector} ${selector === 'rsa' ? 'rsa' : 'ed25519'}-sha256 pass`));
    assert.equal(by['auth.dmarc']!.outcome, 'pass', 'aligned DKIM passes DMARC');
  }
});

test('a modified body or a modified signed header fails', { skip }, async () => {
  const signed = (await sign(original(), 'dkim.test')).toString();
  const body = Buffer.from(signed.replace('the figures are attached', 'the figures are wrong'));
  const header = Buffer.from(signed.replace('Subject: Quarterly figures', 'Subject: Urgent: wire transfer'));
  for (const [what, raw] of [
    ['body', body],
    ['header', header],
  ] as const) {
    const r = (await h.check(raw)).by['auth.dkim']!;
    assert.equal(r.outcome, 'fail', what);
    assert.equal(r.score, 1);
  }
  assert.match((await h.check(body)).by['auth.dkim']!.reason, /body hash did not verify/);
});

test('a missing key and a revoked key (p= empty) fail with the reason', { skip }, async () => {
  const missing = (await h.check(await sign(original(), 'dkim.test', 'rsa').then((b) => Buffer.from(b.toString().replace('s=rsa', 's=gone'))))).by['auth.dkim']!;
  assert.notEqual(missing.outcome, 'pass');
  assert.match(missing.reason, /no key/);
  const revoked = (await h.check(Buffer.from((await sign(original(), 'dkim.test')).toString().replace('s=rsa', 's=revoked')))).by['auth.dkim']!;
  assert.notEqual(revoked.outcome, 'pass');
  assert.match(revoked.reason, /revoked|invalid public key|no key/);
});

test('a key look-up that times out makes the DMARC result temporary, not a failure', { skip }, async () => {
  const signed = (await sign(message({ from: ['a@dmarc-reject.test'] }), 'dmarc-reject.test')).toString();
  const { by } = await h.check(Buffer.from(signed.replace('s=rsa', 's=slow')));
  assert.equal(by['auth.dkim']!.outcome, 'error');
  assert.equal(by['auth.dmarc']!.action, 'tempfail');
  assert.equal(by['auth.dmarc']!.enhancedCode, '4.4.3');
  // An unaligned signature could not have passed DMARC: its unknown key changes nothing.
  const other = (await sign(message({ from: ['a@dmarc-none.test'] }), 'dmarc-reject.test')).toString();
  const none = await h.check(Buffer.from(other.replace('s=rsa', 's=slow')));
  assert.equal(none.by['auth.dmarc']!.outcome, 'fail');
  assert.equal(none.by['auth.dmarc']!.action, undefined);
});
