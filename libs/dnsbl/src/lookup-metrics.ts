import { Counter, Histogram, type Registry } from '@portcullis/telemetry';

export interface LookupMetrics {
  lookups: Counter<'zone' | 'outcome'>;
  batch: Histogram<'use'>;
}

const memo = new WeakMap<Registry, LookupMetrics>();

/** One set per registry: the edge and the reputation stage share it in embedded mode. */
export function lookupMetrics(registry: Registry): LookupMetrics {
  let m = memo.get(registry);
  if (!m) {
    m = {
      lookups: new Counter({
        name: 'portcullis_dnsbl_lookups_total',
        help: 'List look-ups by zone and outcome (listed, not-listed, unknown); the DNS layer counts cache hits',
        labelNames: ['zone', 'outcome'],
        registers: [registry],
      }),
      batch: new Histogram({
        name: 'portcullis_dnsbl_batch_seconds',
        help: 'Time for all list look-ups of one connection (use=connect) or one message (use=content)',
        labelNames: ['use'],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
        registers: [registry],
      }),
    };
    memo.set(registry, m);
  }
  return m;
}
