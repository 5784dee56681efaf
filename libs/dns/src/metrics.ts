import { Counter, Histogram, type Registry } from '@portcullis/telemetry';

export interface DnsMetrics {
  /** Look-ups asked of the layer, by type and how they ended (ok, nxdomain, nodata, or the failure). */
  lookups: Counter<'type' | 'outcome'>;
  /** Queries sent to a server, by type and transport. */
  queries: Counter<'type' | 'transport'>;
  cacheHits: Counter<'type' | 'tier'>;
  timeouts: Counter<'type'>;
  duration: Histogram<'type'>;
}

const memo = new WeakMap<Registry, DnsMetrics>();

/** Registered once per registry: in embedded mode several services share one resolver's metrics names. */
export function dnsMetrics(registry: Registry): DnsMetrics {
  let m = memo.get(registry);
  if (m) return m;
  m = {
    lookups: new Counter({ name: 'portcullis_dns_lookups_total', help: 'DNS look-ups by record type and outcome', labelNames: ['type', 'outcome'], registers: [registry] }),
    queries: new Counter({
      name: 'portcullis_dns_queries_total',
      help: 'DNS queries sent to a server, by record type and transport',
      labelNames: ['type', 'transport'],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'portcullis_dns_cache_hits_total',
      help: 'DNS look-ups answered from a cache, by record type and tier',
      labelNames: ['type', 'tier'],
      registers: [registry],
    }),
    timeouts: new Counter({ name: 'portcullis_dns_timeouts_total', help: 'DNS queries that got no answer in time, by record type', labelNames: ['type'], registers: [registry] }),
    duration: new Histogram({
      name: 'portcullis_dns_lookup_duration_seconds',
      help: 'Time to resolve a look-up that missed the caches, by record type',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5],
      registers: [registry],
    }),
  };
  memo.set(registry, m);
  return m;
}
