/**
 * DNS names from messages (link hosts, sender domains) fed to the wire encoding: 2 MiB of the worst
 * texts (libs/hostile-input) and names too long for the wire. None may take long, and none may go
 * out as a malformed question: dns-packet writes a label's length into one octet unchecked, so a
 * 300-character label asked a different name. Against the real test DNS server (test/infra/dns.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '@portcullis/telemetry';
import { fill, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { AnswerCache, WireResolver, dnsMetrics } from '../src/index.js';
import { isWireName } from '../src/wire.js';
import { testDnsServer, testDnsSkip } from '../src/testing.js';

const skip = await testDnsSkip();
const SIZE = 2 * MiB;

test('isWireName: 2 MiB of each worst text, and the limits of RFC 1035', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => isWireName(text), 2000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(isWireName(`${fill('a', 63)}.test`), true);
  assert.equal(isWireName(`${fill('a', 64)}.test`), false);
  assert.equal(isWireName(`${fill('é', 32)}.test`), false, '64 octets in UTF-8');
  assert.equal(isWireName(fill('a.', 253)), true, '253 characters, 255 octets on the wire');
  assert.equal(isWireName(fill('a.', 255)), false);
  assert.equal(isWireName(`${fill('abcdefg.', 248)}xyz`), true);
  assert.equal(isWireName('a..test'), false);
});

test('names that cannot be asked are answered NXDOMAIN without a query; a 63-octet label is asked', { skip }, async (t) => {
  const registry = new Registry();
  const metrics = dnsMetrics(registry);
  const cache = new AnswerCache({ memoryEntries: 100, minTtlSeconds: 0, maxTtlSeconds: 3600 });
  const r = new WireResolver({ servers: [testDnsServer()], timeoutMs: 2000, attempts: 1, maxInFlight: 16, negativeTtlSeconds: 60, cache, metrics });
  const names = function* () {
    for (const { name, text } of hostileTexts(SIZE)) yield { name, text: `${text}.dbl.test` };
    yield { name: '300-octet label', text: `${fill('a', 300)}.dbl.test` };
    yield { name: '200-octet label (a compression pointer as a length)', text: `${fill('a', 200)}.dbl.test` };
  };
  const worst = await slowest(
    names(),
    async ({ text }) => {
      const answer = await r.query(text, 'A');
      assert.equal(answer.status, 'nxdomain');
    },
    2000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  const sent = (await registry.getMetricsAsJSON()).find((m) => m.name.endsWith('queries_total'))?.values.reduce((n, v) => n + Number(v.value), 0) ?? 0;
  assert.equal(sent, 0, 'nothing was asked on the wire');
  const edge = await r.query(`${fill('a', 63)}.dns.test`, 'A');
  assert.equal(edge.status, 'nxdomain');
  const after = (await registry.getMetricsAsJSON()).find((m) => m.name.endsWith('queries_total'))?.values.reduce((n, v) => n + Number(v.value), 0) ?? 0;
  assert.equal(after, 1, 'a name at the limit is asked');
});
