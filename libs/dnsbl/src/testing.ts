import { ConfigSchema } from '@portcullis/config';
import { createDnsResolver, type DnsResolver } from '@portcullis/dns';
import { TEST_DNS } from '@portcullis/dns/testing';
import type { SharedState } from '@portcullis/state';
import { Registry } from '@portcullis/telemetry';
import type { ListPolicy } from './answer-codes.js';

/**
 * For tests (never imported by service code): a resolver on the test DNS server
 * (test/infra/dns.sh), made the way services make theirs, and the test list zones of
 * test/infra/dns/zones.
 */
export function testResolver(opts: { registry?: Registry; state?: SharedState } = {}): { dns: DnsResolver; registry: Registry } {
  const registry = opts.registry ?? new Registry();
  const config = ConfigSchema.shape.dns.parse({ servers: [TEST_DNS], timeoutMs: 1000, attempts: 1, cache: { shared: opts.state !== undefined, minTtlSeconds: 0 } });
  return { dns: createDnsResolver(config, { registry, ...(opts.state ? { state: opts.state } : {}), env: {} }), registry };
}

/** Queries that reached a server, from the DNS layer's own metric. */
export async function queriesSent(registry: Registry): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'portcullis_dns_queries_total');
  return (m?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}

const list = (zone: string, weight: number, more: Partial<ListPolicy> = {}): ListPolicy => ({ zone, weight, codes: [], bits: [], errorCodes: ['127.255.255.0/24'], ...more });

export const TEST_LISTS = {
  /** Spamhaus ZEN style: SBL 127.0.0.2, XBL 127.0.0.4-7, PBL 127.0.0.10-11 (light). */
  dnsbl: list('dnsbl.portcullis.test', 10, {
    codes: [
      { answer: '127.0.0.2', meaning: 'SBL' },
      { answer: '127.0.0.4/30', meaning: 'XBL' },
      { answer: '127.0.0.10/31', weight: 6, meaning: 'PBL' },
    ],
  }),
  dnswl: list('dnswl.portcullis.test', -8, { codes: [{ answer: '127.0.0.0/16', meaning: 'dnswl' }] }),
  /** multi.uribl.com style bitmask. */
  uribl: list('uribl.portcullis.test', 5, {
    bits: [
      { bit: 2, meaning: 'black' },
      { bit: 4, weight: 1, meaning: 'grey' },
      { bit: 8, weight: 3, meaning: 'red' },
    ],
  }),
  /** dbl.spamhaus.org style codes. */
  dbl: list('dbl.portcullis.test', 6, {
    codes: [
      { answer: '127.0.1.2', meaning: 'spam' },
      { answer: '127.0.1.4/31', meaning: 'phish/malware' },
    ],
  }),
  /** A list that never answers (the test server drops every query under timeout.test). */
  silent: list('bl.timeout.test', 10),
};
