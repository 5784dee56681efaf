import { perRegistry } from '@portcullis/service';
import { Counter } from '@portcullis/telemetry';

export interface AuthMetrics {
  results: Counter<'check' | 'outcome' | 'action'>;
  forged: Counter;
}

export const authMetrics = perRegistry((registry): AuthMetrics => ({
  results: new Counter({
    name: 'portcullis_auth_results_total',
    help: 'Sender authentication results by check, outcome and demanded action',
    labelNames: ['check', 'outcome', 'action'],
    registers: [registry],
  }),
  forged: new Counter({
    name: 'portcullis_auth_forged_results_removed_total',
    help: 'Authentication-Results headers claiming our authserv-id that were removed',
    registers: [registry],
  }),
}));
