import { lookupMetrics, type LookupMetrics } from '@portcullis/dnsbl';
import { perRegistry } from '@portcullis/service';
import { Counter } from '@portcullis/telemetry';

export interface ReputationMetrics {
  /** The URIBL/DBL look-ups (queries, listings, errors), shared with the edge's DNSBL. */
  lookups: LookupMetrics;
  /** Records whose checks were not run because an earlier stage had already decided a reject. */
  skipped: Counter<'decided_by'>;
}

export const reputationMetrics = perRegistry((registry): ReputationMetrics => ({
  lookups: lookupMetrics(registry),
  skipped: new Counter({
    name: 'portcullis_reputation_skipped_total',
    help: 'Records whose reputation checks (list look-ups, history) were not run because an earlier result already demanded a reject, by that check',
    labelNames: ['decided_by'],
    registers: [registry],
  }),
}));
