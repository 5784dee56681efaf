/**
 * ARC (a sealed forward, trusted or not, and our own seal), the Authentication-Results
 * header (ours on top, forged ones claiming our authserv-id removed), authenticated submission.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { authHarness, authResultsHeaders, AUTHSERV_ID } from './harness.js';
import { forwardWithArc, keyDir, message, sign } from '../src/testing.js';
import { loadSealKey } from '../src/seal-key.js';
import { authservIdKey, authservIdOf, stripForgedResults } from '../src/headers.js';

const skip = await testDnsSkip();
const h = authHarness();
/** The list server's address and envelope: SPF passes for forwarder.test, unaligned with the author. */
const viaList = { client: { ip: '203.0.113.5', port: 40000 }, helo: 'forwarder.test', mailFrom: 'list-bounces@forwarder.test' };

async function forwarded(): Promise<Buffer> {
  const original = await sign(message({ from: ['Alice <alice@dmarc-reject.test>'] }), 'dmarc-reject.test');
  return forwardWithArc(original, 'forwarder.test; dkim=pass header.d=dmarc-reject.test; spf=pass smtp.mailfrom=dmarc-reject.test; dmarc=pass header.from=dmarc-reject.test');
}

test('an ARC-sealed forward of p=reject mail: rejected unless the sealer is trusted', { skip }, async () => {
  const raw = await forwarded();
  const plain = await h.check(raw, viaList);
  assert.equal(plain.by['auth.arc']!.outcome, 'pass');
  assert.match(plain.by['auth.arc']!.reason, /sealed by forwarder\.test/);
  assert.equal(plain.by['auth.dkim']!.outcome, 'fail', 'the footer broke the author signature');
  assert.equal(plain.by['auth.dmarc']!.action, 'reject');
  const trusting = authHarness({ arc: { trustedSealers: ['forwarder.test'] } });
  const t = await trusting.check(raw, viaList);
  assert.equal(t.by['auth.dmarc']!.outcome, 'fail');
  assert.equal(t.by['auth.dmarc']!.action, undefined);
  assert.match(t.by['auth.dmarc']!.reason, /overridden: valid ARC chain sealed by trusted forwarder\.test \(dmarc=pass there\)/);
  // A trusted name on a broken chain overrides nothing.
  const broken = Buffer.from(raw.toString().replace('list footer', 'tampered footer'));
  const b = await trusting.check(broken, viaList);
  assert.equal(b.by['auth.arc']!.outcome, 'fail');
  assert.equal(b.by['auth.dmarc']!.action, 'reject');
});

test('our Authentication-Results goes on top; forged ones claiming our authserv-id are removed, others kept', { skip }, async () => {
  const raw = await sign(
    message({
      from: ['Alice <alice@dmarc-none.test>'],
      headers: [
        `Authentication-Results: ${AUTHSERV_ID.toUpperCase()}; dkim=pass header.d=bank.example; dmarc=pass`,
        `Authentication-Results: (comment) "${AUTHSERV_ID}";\r\n spf=pass`,
        'Authentication-Results: upstream.example; spf=pass smtp.mailfrom=x@upstream.example',
      ],
    }),
    'dmarc-none.test',
  );
  const { record, by } = await h.check(raw);
  const ar = authResultsHeaders(record.raw);
  assert.equal(ar.length, 2);
  assert.match(ar[0]!, new RegExp(`^Authentication-Results: ${AUTHSERV_ID.replace(/\./g, '\\.')}; dkim=pass header\\.i=@dmarc-none\\.test`));
  assert.match(ar[0]!, /dmarc=pass/);
  assert.match(ar[1]!, /^Authentication-Results: upstream\.example;/);
  assert.equal(by['auth.dkim']!.outcome, 'pass', 'removal left the signed headers intact');
  assert.equal(record.meta.size, record.raw.length);
  assert.match(record.raw.toString(), /^Received-SPF: pass/);
});

test('authservIdOf reads through comments, quotes and folding', () => {
  assert.equal(authservIdOf('Authentication-Results: (x (y)) "Mx.Example";\r\n spf=pass'), 'mx.example');
  assert.equal(authservIdOf('Authentication-Results:mx.example 1; none'), 'mx.example');
  assert.equal(authservIdOf('Received: from x'), undefined);
  const raw = Buffer.from('A: 1\r\nAuthentication-Results: mx.example;\r\n\tdkim=pass\r\nB: 2\r\n\r\nAuthentication-Results: mx.example; in the body\r\n');
  const s = stripForgedResults(raw, 'MX.example');
  assert.equal(s.removed, 1);
  assert.equal(s.raw.toString(), 'A: 1\r\nB: 2\r\n\r\nAuthentication-Results: mx.example; in the body\r\n');
});

test('ARC sealing of what we pass on, with a key from a file', { skip }, async () => {
  const seal = loadSealKey({ domain: 'forwarder.test', selector: 'arc', privateKeyFile: `${keyDir}arc.pem` });
  assert.throws(() => loadSealKey({ domain: 'forwarder.test', selector: 'arc', privateKeyFile: `${keyDir}missing.pem` }), /cannot read .*ENOENT/);
  assert.throws(() => loadSealKey({ domain: 'forwarder.test', selector: 'arc', privateKeyFile: `${keyDir}../../harness.ts` }), /not an RSA or Ed25519 private key/);
  const sealer = authHarness({}, { seal });
  const { record } = await sealer.check(await sign(message({ from: ['a@dmarc-none.test'] }), 'dmarc-none.test'));
  const text = record.raw.toString();
  assert.match(text, /^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none; d=forwarder\.test;\s+s=arc;/m);
  assert.match(text, /^ARC-Message-Signature: i=1;/m);
  assert.match(text, /^ARC-Authentication-Results: i=1; mx\.portcullis\.test;/m);
  // The next hop (here: us again) finds the chain valid.
  const next = await h.check(record.raw);
  assert.equal(next.by['auth.arc']!.outcome, 'pass');
});

test('authenticated submission: no inbound checks, recorded as skipped, auth= in the header', { skip }, async () => {
  const { record, by } = await h.check(message({ from: ['alice@dmarc-reject.test'] }), {
    auth: { user: 'alice', mechanism: 'PLAIN' },
    client: { ip: '198.51.100.77', port: 1 },
    mailFrom: 'alice@dmarc-reject.test',
  });
  for (const c of ['auth.spf', 'auth.dkim', 'auth.dmarc', 'auth.arc', 'auth.bimi']) {
    assert.equal(by[c]!.outcome, 'skip', c);
    assert.equal(by[c]!.action, undefined, c);
  }
  assert.deepEqual(authResultsHeaders(record.raw), [`Authentication-Results: ${AUTHSERV_ID}; auth=pass smtp.auth=alice`]);
});

test('a client in a trusted network: nothing looked up or enforced, recorded as skipped, "none" in the header', { skip }, async () => {
  const trusting = authHarness({ trustedNetworks: ['10.0.0.0/8', '2001:db8:aa::/48'] });
  const lookups = async () => (await trusting.registry.getSingleMetric('portcullis_dns_lookups_total')?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;
  const before = await lookups();
  const { record, by } = await trusting.check(message({ from: ['alice@dmarc-reject.test'] }), { client: { ip: '10.1.2.3', port: 1 }, mailFrom: 'alice@dmarc-reject.test' });
  for (const c of ['auth.spf', 'auth.dkim', 'auth.dmarc', 'auth.arc', 'auth.bimi']) {
    assert.equal(by[c]!.outcome, 'skip', c);
    assert.equal(by[c]!.action, undefined, c);
    assert.match(by[c]!.reason, /trusted network \(10\.0\.0\.0\/8\)/);
  }
  assert.deepEqual(authResultsHeaders(record.raw), [`Authentication-Results: ${AUTHSERV_ID}; none`]);
  assert.equal(await lookups(), before);
  // Outside the trusted networks the same message meets the domain's p=reject.
  const outside = await trusting.check(message({ from: ['alice@dmarc-reject.test'] }), { client: { ip: '192.0.2.99', port: 1 }, mailFrom: 'alice@dmarc-reject.test' });
  assert.equal(outside.by['auth.dmarc']!.action, 'reject');
});

test('authserv-ids compare as domain names: case, trailing dots, quoted-pairs, U-labels', () => {
  for (const spelling of ['mx.example.test', 'MX.Example.Test', 'mx.example.test.', 'mx.example.test..', 'mx.example\\.test']) {
    assert.equal(authservIdKey(spelling), 'mx.example.test', spelling);
  }
  assert.equal(authservIdKey('mx.bücher.test'), authservIdKey('MX.XN--BCHER-KVA.TEST.'));
  assert.notEqual(authservIdKey('mx.example.test.evil'), authservIdKey('mx.example.test'));
  const started = performance.now();
  authservIdKey(`${'.'.repeat(1_000_000)}x`);
  assert.ok(performance.now() - started < 5000, 'linear on a long run of dots');
});

test('a forged Authentication-Results is dropped whatever spelling or CFWS hides our id', () => {
  const forged = [
    'Authentication-Results: mx.example.test.; dkim=pass',
    'Authentication-Results: (a comment) MX.EXAMPLE.TEST. 1; spf=pass',
    'Authentication-Results:\r\n\t(nested (comment))\r\n "mx.example.test."; dmarc=pass',
    'Authentication-Results: mx.example.test(c); arc=pass',
    'Authentication-Results: "mx.example\\.test"; arc=pass',
    'authentication-results  :  mx.xn--bcher-kva.test; dkim=pass',
  ];
  const kept = 'Authentication-Results: mx.example.test.evil; spf=pass\r\n';
  const raw = Buffer.from(`${forged.join('\r\n')}\r\n${kept}Subject: x\r\n\r\nbody\r\n`);
  const s = stripForgedResults(raw, 'mx.example.test');
  assert.equal(s.removed, forged.length - 1, 'all but the other host');
  assert.equal(s.raw.toString(), `authentication-results  :  mx.xn--bcher-kva.test; dkim=pass\r\n${kept}Subject: x\r\n\r\nbody\r\n`);
  const idn = stripForgedResults(
    Buffer.from('Authentication-Results: mx.xn--bcher-kva.test; dkim=pass\r\nAuthentication-Results: MX.BÜCHER.TEST.; spf=pass\r\n\r\n'),
    'mx.bücher.test',
  );
  assert.equal(idn.removed, 2, 'A-label and U-label spellings of an IDN id');
});
