/** connect.dnsbl against the real test DNS server and the list zones in test/infra/dns/zones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { checkClientIp, type ClientIpPolicy } from '../src/index.js';
import { queriesSent, testResolver, TEST_LISTS } from '../src/testing.js';

const skip = await testDnsSkip();
const policy: ClientIpPolicy = { lists: [TEST_LISTS.dnsbl, TEST_LISTS.dnswl], refuseAt: 10, tarpitAt: 5, timeoutMs: 800, deadlineMs: 1500 };

async function check(ip: string, p: ClientIpPolicy = policy) {
  const { dns } = testResolver();
  return checkClientIp({ dns }, ip, p);
}

test('listed: refused, with the list and its meaning named', { skip }, async () => {
  const v = await check('192.0.2.10');
  assert.equal(v.decision, 'refuse');
  assert.equal(v.score, 10);
  assert.deepEqual(v.listedBy, ['dnsbl.portcullis.test (SBL)']);
  const r = v.results.find((x) => x.reason.startsWith('dnsbl.portcullis.test'))!;
  assert.equal(r.stage, 'connect');
  assert.equal(r.check, 'connect.dnsbl');
  assert.equal(r.outcome, 'fail');
  assert.match(r.reason, /listed 127\.0\.0\.2 SBL/);
});

test('not listed: pass, every list recorded as none', { skip }, async () => {
  const v = await check('192.0.2.99');
  assert.equal(v.decision, 'pass');
  assert.equal(v.score, 0);
  assert.deepEqual(
    v.results.map((r) => r.outcome),
    ['none', 'none'],
  );
});

test('a light code (PBL weight 6) delays instead of refusing', { skip }, async () => {
  const v = await check('192.0.2.12');
  assert.equal(v.decision, 'tarpit');
  assert.equal(v.score, 6);
});

test('error code 127.255.255.x, 127.0.0.1 and non-127/8 answers are unknown, never listed', { skip }, async () => {
  for (const ip of ['192.0.2.13', '192.0.2.14', '192.0.2.15']) {
    const v = await check(ip);
    assert.equal(v.decision, 'pass', ip);
    assert.equal(v.score, 0, ip);
    const r = v.results.find((x) => x.reason.startsWith('dnsbl.portcullis.test'))!;
    assert.equal(r.outcome, 'error', ip);
    assert.match(r.reason, /unknown/, ip);
  }
});

test('two sub-lists at once count once, at the heavier weight', { skip }, async () => {
  const v = await check('192.0.2.16');
  assert.equal(v.score, 10);
  assert.deepEqual(v.listedBy, ['dnsbl.portcullis.test (SBL, XBL)']);
});

test('an allow list offsets a block list', { skip }, async () => {
  const v = await check('192.0.2.31');
  assert.equal(v.score, 2);
  assert.equal(v.decision, 'pass');
  assert.ok(v.results.some((r) => r.outcome === 'pass' && r.score === -8));
});

test('IPv6 is looked up by nibbles', { skip }, async () => {
  const v = await check('2001:db8::10');
  assert.equal(v.decision, 'refuse');
  assert.equal((await check('2001:db8::11')).decision, 'pass');
});

test('RFC 5782 test points: 127.0.0.2 listed, 127.0.0.1 not', { skip }, async () => {
  assert.equal((await check('127.0.0.2')).decision, 'refuse');
  assert.equal((await check('127.0.0.1')).decision, 'pass');
});

test('SERVFAIL and a timeout are unknown: the client passes', { skip }, async () => {
  for (const ip of ['192.0.2.20', '192.0.2.21']) {
    const t0 = performance.now();
    const v = await check(ip);
    assert.equal(v.decision, 'pass', ip);
    assert.match(v.results[0]!.reason, /unknown, DNS (timeout|servfail)/, ip);
    assert.ok(performance.now() - t0 < 1400, `${ip} bounded by its timeout`);
  }
});

test('one silent list costs at most the deadline, and the others still count', { skip }, async () => {
  const t0 = performance.now();
  const v = await check('192.0.2.10', { ...policy, lists: [TEST_LISTS.dnsbl, TEST_LISTS.silent], timeoutMs: 5000, deadlineMs: 400 });
  const took = performance.now() - t0;
  assert.ok(took < 1000, `took ${took} ms`);
  assert.equal(v.decision, 'refuse');
  assert.match(v.results[1]!.reason, /unknown, DNS (deadline|timeout)/);
});

test('answers are cached per TTL by the DNS layer: the second connection sends no query', { skip }, async () => {
  const { dns, registry } = testResolver();
  await checkClientIp({ dns }, '192.0.2.11', policy);
  const first = await queriesSent(registry);
  assert.equal(first, 2);
  const again = await checkClientIp({ dns }, '192.0.2.11', policy);
  assert.equal(again.decision, 'refuse');
  assert.equal(await queriesSent(registry), first);
});
