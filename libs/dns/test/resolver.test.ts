/**
 * The DNS layer against the real test DNS server (test/infra/dns.sh, BIND with
 * the zones in test/infra/dns/zones): answers, negative answers with their SOA
 * minimum, CNAMEs, TCP on truncation, and the faults (timeout, SERVFAIL, REFUSED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '@portcullis/telemetry';
import { randomUUID } from 'node:crypto';
import { MemoryState, RedisState, type SharedState } from '@portcullis/state';
import { TEST_REDIS_URL, sharedRedisSkip } from '@portcullis/state/testing';
import { AnswerCache, DnsTempError, WireResolver, dnsMetrics, messageDeadline, withSignal, type DnsServer } from '../src/index.js';
import { testDnsServer, testDnsSkip } from '../src/testing.js';

const skip = await testDnsSkip();

function resolver(opts: { servers?: DnsServer[]; timeoutMs?: number; state?: SharedState; registry?: Registry } = {}) {
  const registry = opts.registry ?? new Registry();
  const cache = new AnswerCache({ memoryEntries: 100, minTtlSeconds: 0, maxTtlSeconds: 3600, state: opts.state });
  const r = new WireResolver({
    servers: opts.servers ?? [testDnsServer()],
    timeoutMs: opts.timeoutMs ?? 500,
    attempts: 1,
    maxInFlight: 16,
    negativeTtlSeconds: 60,
    cache,
    metrics: dnsMetrics(registry),
  });
  return { r, registry };
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

test('A, AAAA, MX, PTR answers with their TTL', { skip }, async () => {
  const { r } = resolver();
  const a = await r.query('A.dns.test.', 'A');
  assert.equal(a.status, 'ok');
  assert.deepEqual([...a.records].sort(), ['192.0.2.1', '192.0.2.2']);
  assert.equal(a.ttl, 300);
  assert.deepEqual((await r.query('a.dns.test', 'AAAA')).records, ['2001:db8::1']);
  const mx = await r.query('mx.dns.test', 'MX');
  assert.deepEqual(
    [...mx.records].sort((x, y) => x.priority - y.priority),
    [
      { priority: 10, exchange: 'mx1.dns.test' },
      { priority: 20, exchange: 'mx2.dns.test' },
    ],
  );
  assert.deepEqual((await r.query('1.2.0.192.in-addr.dns.test', 'PTR')).records, ['a.dns.test']);
  assert.equal((await r.query('short.dns.test', 'A')).ttl, 60);
});

test('TXT: the strings of one record are joined, records stay apart', { skip }, async () => {
  const { r } = resolver();
  assert.deepEqual((await r.query('txt.dns.test', 'TXT')).records, ['v=spf1 ip4:192.0.2.0/24 -all']);
  assert.deepEqual([...(await r.query('txt2.dns.test', 'TXT')).records].sort(), ['first', 'second']);
});

test('NXDOMAIN and NODATA are answers, with the SOA minimum as TTL', { skip }, async () => {
  const { r } = resolver();
  assert.deepEqual(await r.query('missing.dns.test', 'A'), { status: 'nxdomain', records: [], ttl: 120 });
  assert.deepEqual(await r.query('nodata.dns.test', 'TXT'), { status: 'nodata', records: [], ttl: 120 });
});

test('CNAMEs are followed, in the zone and out of it; a loop is a temporary error', { skip }, async () => {
  const { r } = resolver();
  assert.deepEqual([...(await r.query('alias2.dns.test', 'A')).records].sort(), ['192.0.2.1', '192.0.2.2']);
  const out = await r.query('outside.dns.test', 'A');
  assert.deepEqual(out.records, ['192.0.2.9']);
  assert.equal(out.ttl, 300);
  assert.deepEqual((await r.query('alias.dns.test', 'CNAME')).records, ['a.dns.test']);
  await assert.rejects(r.query('loop1.dns.test', 'A'), DnsTempError);
});

test('a truncated UDP answer is asked again over TCP', { skip }, async () => {
  const { r, registry } = resolver();
  const big = await r.query('big.dns.test', 'TXT');
  assert.equal(big.records.length, 1);
  assert.equal(big.records[0]!.length, 8 * 200);
  assert.equal(await metric(registry, 'portcullis_dns_queries_total', { type: 'TXT', transport: 'tcp' }), 1);
});

test('a name never answered is a timeout, after the per-query timeout, counted', { skip }, async () => {
  const { r, registry } = resolver({ timeoutMs: 300 });
  const t0 = Date.now();
  await assert.rejects(r.query('spf.timeout.test', 'TXT'), (e: DnsTempError) => e instanceof DnsTempError && e.failure === 'timeout');
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  assert.equal(await metric(registry, 'portcullis_dns_timeouts_total', { type: 'TXT' }), 1);
});

test('SERVFAIL and REFUSED are temporary errors', { skip }, async () => {
  const { r } = resolver();
  await assert.rejects(r.query('x.servfail.test', 'A'), (e: DnsTempError) => e.failure === 'servfail');
  await assert.rejects(r.query('x.refused.test', 'TXT'), (e: DnsTempError) => e.failure === 'refused');
});

test('a message deadline ends every look-up at once, however many are waiting', { skip }, async () => {
  const { r } = resolver({ timeoutMs: 5000 });
  const bound = withSignal(r, messageDeadline(200));
  const t0 = Date.now();
  const all = await Promise.allSettled([bound.query('a.timeout.test', 'A'), bound.query('b.timeout.test', 'TXT')]);
  assert.ok(Date.now() - t0 < 1000);
  for (const s of all) assert.ok(s.status === 'rejected' && (s.reason as DnsTempError).failure === 'deadline');
  await assert.rejects(bound.query('a.dns.test', 'A'), (e: DnsTempError) => e.failure === 'deadline');
});

test('a dead server is skipped for the next one', { skip }, async () => {
  const { r } = resolver({ servers: [{ host: '127.0.0.1', port: 9 }, testDnsServer()], timeoutMs: 300 });
  assert.equal((await r.query('a.dns.test', 'A')).status, 'ok');
});

test('answers come from the shared cache for their TTL; negative ones too', { skip }, async () => {
  const state = new MemoryState({ maxEntries: 100 });
  const first = resolver({ state });
  await first.r.query('a.dns.test', 'A');
  await first.r.query('gone.dns.test', 'A');
  // A second replica (own memory cache) finds both in the shared store without asking.
  const second = resolver({ state, servers: [{ host: '127.0.0.1', port: 9 }], timeoutMs: 200 });
  assert.equal((await second.r.query('a.dns.test', 'A')).status, 'ok');
  assert.equal((await second.r.query('gone.dns.test', 'A')).status, 'nxdomain');
  assert.equal(await metric(second.registry, 'portcullis_dns_cache_hits_total', { type: 'A', tier: 'shared' }), 2);
  assert.equal(await metric(second.registry, 'portcullis_dns_queries_total', { type: 'A', transport: 'udp' }), 0);
  assert.ok((await state.ttl('dns:A:gone.dns.test'))! <= 120);
  await second.r.query('a.dns.test', 'A');
  assert.equal(await metric(second.registry, 'portcullis_dns_cache_hits_total', { type: 'A', tier: 'memory' }), 1);
  await state.close();
});

test('the shared cache through the real Redis: a second replica asks no server', { skip: skip || (await sharedRedisSkip()) }, async () => {
  const keyPrefix = `portcullis-test:${randomUUID().slice(0, 8)}:`;
  const state = new RedisState({ url: TEST_REDIS_URL, keyPrefix });
  try {
    await resolver({ state }).r.query('txt.dns.test', 'TXT');
    const second = resolver({ state, servers: [{ host: '127.0.0.1', port: 9 }], timeoutMs: 200 });
    assert.deepEqual((await second.r.query('txt.dns.test', 'TXT')).records, ['v=spf1 ip4:192.0.2.0/24 -all']);
    const ttl = await state.ttl('dns:TXT:txt.dns.test');
    assert.ok(ttl !== null && ttl > 200 && ttl <= 300, `ttl ${ttl}`);
    await state.del('dns:TXT:txt.dns.test');
  } finally {
    await state.close();
  }
});
