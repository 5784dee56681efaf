/**
 * The reputation stage's checks against the real test DNS server (list zones in
 * test/infra/dns/zones) with real message parsing; history in memory here and in the real
 * Redis in sender-history.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMeta } from '@portcullis/contract/testing';
import type { Envelope, MailRecord } from '@portcullis/contract';
import { testDnsSkip } from '@portcullis/dns/testing';
import { queriesSent, testResolver, TEST_LISTS } from '@portcullis/dnsbl/testing';
import { randomUUID } from 'node:crypto';
import { MemoryState, RedisState } from '@portcullis/state';
import { TEST_REDIS_URL, sharedRedisSkip } from '@portcullis/state/testing';
import { after } from 'node:test';
import { checkReputation, SenderHistory } from '../src/index.js';
import { HIDDEN, obfuscatedMessage, testCheckDeps, testPool } from '../src/testing.js';

const skip = await testDnsSkip();
// The message is parsed in a worker, as in the stage.
const pool = testPool();
after(() => pool.close());

function deps(reputation: Record<string, unknown> = {}, history = false) {
  const { dns, registry } = testResolver();
  const state = new MemoryState({ maxEntries: 1000 });
  const d = testCheckDeps({
    dns,
    pool,
    reputation: { content: { lists: [TEST_LISTS.uribl, TEST_LISTS.dbl], maxDomains: 50, timeoutMs: 800, deadlineMs: 2000 }, ...reputation },
    ...(history ? { state } : {}),
  });
  return { d, registry, state };
}

const record = (raw: Buffer, envelope: Partial<Envelope> = {}): MailRecord => ({ meta: sampleMeta({ envelope: { mailFrom: 'bounce@sender.example', ...envelope } }), raw });
const plain = (from: string, body: string) => Buffer.from(`From: <${from}>\r\nTo: <postmaster@example.test>\r\nSubject: hi\r\n\r\n${body}\r\n`);

test('a listed domain is found behind every obfuscation', { skip }, async () => {
  const { d } = deps();
  const results = await checkReputation(d, record(obfuscatedMessage()));
  const listed = results.filter((r) => r.check === 'reputation.uribl' && r.outcome === 'fail');
  for (const [trick, domain] of Object.entries(HIDDEN)) {
    assert.ok(
      listed.some((r) => r.reason.startsWith(`uribl.portcullis.test for ${domain}:`)),
      `${trick}: ${domain}`,
    );
  }
  assert.ok(listed.every((r) => r.score === 5 && /black/.test(r.reason)));
  assert.ok(results.some((r) => r.check === 'reputation.shortener' && r.score === 0.5));
  assert.ok(results.some((r) => r.check === 'reputation.ip-link' && /192\.168\.1\.1/.test(r.reason)));
  assert.ok(!results.some((r) => r.action), 'no demand without thresholds');
});

test('bitmask and code lists: each answer read its own way; 127.0.0.1 and error codes are unknown', { skip }, async () => {
  const { d } = deps();
  const body = 'see http://grey.example/ http://blackred.example/ http://refused.example/ http://phish.example/ http://dblerror.example/';
  const results = await checkReputation(d, record(plain('a@spamsender.example', body)));
  const by = (subject: string, zone: string) => results.find((r) => r.reason.startsWith(`${zone} for ${subject}:`));
  assert.equal(by('grey.example', 'uribl.portcullis.test')?.score, 1);
  assert.equal(by('blackred.example', 'uribl.portcullis.test')?.score, 5);
  assert.match(by('blackred.example', 'uribl.portcullis.test')!.reason, /black, red/);
  assert.equal(by('refused.example', 'uribl.portcullis.test')?.outcome, 'error');
  assert.equal(by('phish.example', 'dbl.portcullis.test')?.score, 6);
  assert.equal(by('spamsender.example', 'dbl.portcullis.test')?.outcome, 'fail');
  assert.equal(by('dblerror.example', 'dbl.portcullis.test')?.outcome, 'error');
});

test('the cache is honoured: the second message sends no query', { skip }, async () => {
  const { d, registry } = deps();
  await checkReputation(d, record(obfuscatedMessage()));
  const cold = await queriesSent(registry);
  assert.ok(cold > 10, `${cold} queries`);
  const again = await checkReputation(d, record(obfuscatedMessage()));
  assert.equal(await queriesSent(registry), cold);
  assert.ok(again.some((r) => r.check === 'reputation.uribl' && r.outcome === 'fail'));
});

test('look-ups per message are capped', { skip }, async () => {
  const { d, registry } = deps({ content: { lists: [TEST_LISTS.uribl, TEST_LISTS.dbl], maxDomains: 3 } });
  const results = await checkReputation(d, record(obfuscatedMessage()));
  assert.equal(await queriesSent(registry), 6);
  assert.ok(results.some((r) => /more domains not looked up \(cap 3\)/.test(r.reason)));
});

test('a slow list is unknown within the deadline and never blocks', { skip }, async () => {
  const { d } = deps({ content: { lists: [TEST_LISTS.uribl], timeoutMs: 5000, deadlineMs: 400, rejectAt: 1 } });
  const t0 = performance.now();
  const results = await checkReputation(d, record(plain('a@b.example', 'http://slow.example/')));
  assert.ok(performance.now() - t0 < 1500);
  assert.match(results.find((r) => r.reason.startsWith('uribl.portcullis.test for slow.example'))!.reason, /unknown/);
  assert.ok(!results.some((r) => r.action));
});

test('thresholds: the stage demands reject (5.7.1) past rejectAt', { skip }, async () => {
  const { d } = deps({ content: { lists: [TEST_LISTS.uribl], rejectAt: 10 } });
  const results = await checkReputation(d, record(obfuscatedMessage()));
  const demand = results.find((r) => r.action);
  assert.equal(demand?.action, 'reject');
  assert.equal(demand?.enhancedCode, '5.7.1');
  assert.match(demand!.reason, /listed domains/);
});

test('block list: a blocked sender is refused 5.7.1, nothing looked up', { skip }, async () => {
  const { d, registry } = deps({ block: { senderDomains: ['blocked.example'] } });
  const results = await checkReputation(d, record(plain('x@mail.blocked.example', 'http://grey.example/')));
  assert.deepEqual(
    results.map((r) => [r.check, r.action, r.enhancedCode]),
    [['reputation.local', 'reject', '5.7.1']],
  );
  assert.match(results[0]!.reason, /sender domain blocked\.example is blocked/);
  assert.equal(await queriesSent(registry), 0);
});

test('block list by client network and by recipient', { skip }, async () => {
  const { d } = deps({ block: { ips: ['192.0.2.0/24'] } });
  assert.equal((await checkReputation(d, record(plain('a@b.example', 'x'))))[0]!.action, 'reject');
  const r = deps({ block: { recipients: ['trap@example.test'] } });
  assert.equal((await checkReputation(r.d, record(plain('a@b.example', 'x'), { rcptTo: ['trap@example.test'] })))[0]!.action, 'reject');
});

test('allow list: the sender is not scored (no look-ups, no history)', { skip }, async () => {
  const { d, registry } = deps({ allow: { senders: ['offers@sender.example'] } }, true);
  const results = await checkReputation(d, record(obfuscatedMessage()));
  assert.deepEqual(
    results.map((r) => [r.check, r.outcome, r.score]),
    [['reputation.local', 'pass', 0]],
  );
  assert.equal(await queriesSent(registry), 0);
});

test('a block entry wins over an allow entry', { skip }, async () => {
  const { d } = deps({ allow: { ips: ['192.0.2.0/24'] }, block: { senders: ['bad@b.example'] } });
  assert.equal((await checkReputation(d, record(plain('bad@b.example', 'x'))))[0]!.action, 'reject');
});

test('the shared cache (Redis) serves another replica: its first message sends no query', { skip: skip || (await sharedRedisSkip()) }, async () => {
  const state = new RedisState({ url: TEST_REDIS_URL, keyPrefix: `test-rep-cache-${randomUUID()}:` });
  try {
    const replica = () => {
      const { dns, registry } = testResolver({ state });
      return { registry, deps: testCheckDeps({ dns, pool, reputation: { content: { lists: [TEST_LISTS.uribl] } } }) };
    };
    const a = replica();
    await checkReputation(a.deps, record(obfuscatedMessage()));
    assert.ok((await queriesSent(a.registry)) > 10);
    const b = replica();
    const results = await checkReputation(b.deps, record(obfuscatedMessage()));
    assert.equal(await queriesSent(b.registry), 0);
    assert.equal(results.filter((r) => r.outcome === 'fail').length, Object.keys(HIDDEN).length);
  } finally {
    await state.close();
  }
});

test('history unavailable (Redis not reachable): recorded as an error, the message goes on', { skip }, async () => {
  // A real Redis client on a port where nothing listens: every command fails, as when Redis is down.
  const state = new RedisState({ url: 'redis://127.0.0.1:1', keyPrefix: 'x:', commandTimeoutMs: 300 });
  try {
    const { d } = deps();
    const results = await checkReputation({ ...d, history: new SenderHistory(state, d.config.history) }, record(plain('a@b.example', 'hello')));
    const h = results.find((r) => r.check === 'reputation.history')!;
    assert.equal(h.outcome, 'error');
    assert.ok(!results.some((r) => r.action));
  } finally {
    await state.close();
  }
});

test('link addresses against IP lists: http://3232235777/ is 192.168.1.1, listed', { skip }, async () => {
  const { d } = deps({ content: { lists: [], ipLists: [TEST_LISTS.dnsbl] } });
  const results = await checkReputation(d, record(obfuscatedMessage()));
  const hit = results.find((r) => r.check === 'reputation.ip-link' && r.outcome === 'fail');
  assert.match(hit!.reason, /^dnsbl\.portcullis\.test for 192\.168\.1\.1: listed 127\.0\.0\.2 SBL/);
  assert.equal(hit!.score, 10);
  assert.ok(!results.some((r) => r.reason.includes('for 127.0.0.1:') && r.outcome === 'fail'), '127.0.0.1 is not listed');
});

test('history moves the stage score: a new client, then one with a spam history', { skip }, async () => {
  const { d } = deps({ content: { lists: [] } }, true);
  const msg = () => record(plain('a@b.example', 'hello'), { client: { ip: '203.0.113.9', port: 1 } });
  const score = (rs: Awaited<ReturnType<typeof checkReputation>>) => rs.reduce((s, r) => s + r.score, 0);
  const first = await checkReputation(d, msg());
  assert.equal(score(first), d.config.history.newSenderWeight);
  for (let i = 0; i < 4; i++) await d.history!.record('ip:203.0.113.9', 'spam');
  const later = await checkReputation(d, msg());
  assert.equal(score(later), d.config.history.badRatioWeight);
  assert.match(later.find((r) => r.check === 'reputation.history')!.reason, /4\.0 spam/);
});
