/**
 * Query names built from what messages and clients give (RFC 5782): 2 MiB of the worst texts
 * (libs/hostile-input) as addresses and domains, then asked of the lists on the real test DNS
 * server (test/infra/dns.sh). Each must be quick; a domain that cannot be a DNS name is "not
 * listed" at once (libs/dns answers NXDOMAIN without asking), never a malformed question.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDnsSkip } from '@portcullis/dns/testing';
import { fill, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { checkDomains, checkLinkAddresses } from '../src/domains.js';
import { domainQueryName, ipQueryName } from '../src/query-name.js';
import { queriesSent, testResolver, TEST_LISTS } from '../src/testing.js';

const skip = await testDnsSkip();
const SIZE = 2 * MiB;

test('query-name: 2 MiB of each worst text as an address and as a domain', async (t) => {
  const worst = await slowest(
    hostileTexts(SIZE),
    ({ text }) => {
      assert.equal(ipQueryName(text, 'dnsbl.test'), null);
      domainQueryName(text, 'dbl.test');
    },
    2000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});

test('domains: hostile domains and link addresses asked of the lists', { skip }, async (t) => {
  const { dns, registry } = testResolver();
  const policy = { lists: [TEST_LISTS.dbl], maxDomains: 5, timeoutMs: 800, deadlineMs: 1500 };
  const worst = await slowest(
    hostileTexts(SIZE),
    async ({ text }) => {
      const v = await checkDomains({ dns }, [text, `${fill('a', 300)}.example`], policy);
      assert.equal(v.score, 0);
      assert.ok(
        v.lists.every((l) => l.verdict.status === 'not-listed'),
        'a name that cannot exist is not listed',
      );
      await checkLinkAddresses({ dns }, [text, `[${text}]`], { ...policy, max: 5 });
    },
    2000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(await queriesSent(registry), 0, 'no malformed question went out');
  const listed = await checkDomains({ dns }, ['spamsender.example'], policy);
  assert.ok(listed.score > 0, 'a real listing is still found');
});
