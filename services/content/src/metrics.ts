import { perRegistry } from '@portcullis/service';
import { Counter, Histogram } from '@portcullis/telemetry';

export interface ContentMetrics {
  checkDuration: Histogram<'check'>;
  verdicts: Counter<'action' | 'direction'>;
  findings: Counter<'check' | 'outcome'>;
  /** Records not scanned because an earlier result already demanded a reject. */
  skipped: Counter<'decided_by'>;
}

export const contentMetrics = perRegistry((registry): ContentMetrics => ({
  checkDuration: new Histogram({
    name: 'portcullis_content_check_duration_seconds',
    help: 'Time of one content check (engine or rule) on one message',
    labelNames: ['check'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
  verdicts: new Counter({
    name: 'portcullis_content_verdicts_total',
    help: 'Verdicts by action and direction (inbound, outbound)',
    labelNames: ['action', 'direction'],
    registers: [registry],
  }),
  findings: new Counter({
    name: 'portcullis_content_findings_total',
    help: 'Content check results other than pass and none',
    labelNames: ['check', 'outcome'],
    registers: [registry],
  }),
  skipped: new Counter({
    name: 'portcullis_content_skipped_total',
    help: 'Records not scanned (antivirus, antispam, rules) because an earlier result already demanded a reject, by that check',
    labelNames: ['decided_by'],
    registers: [registry],
  }),
}));
