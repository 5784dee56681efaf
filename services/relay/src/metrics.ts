import { perRegistry } from '@portcullis/service';
import { Counter } from '@portcullis/telemetry';

export interface RelayMetrics {
  outcomes: Counter<'status'>;
  circuitOpens: Counter<'destination'>;
  noSmarthost: Counter<'kind'>;
}

export const relayMetrics = perRegistry((registry): RelayMetrics => ({
  outcomes: new Counter({ name: 'portcullis_relay_recipients_total', help: 'Recipient outcomes at the relay', labelNames: ['status'], registers: [registry] }),
  circuitOpens: new Counter({ name: 'portcullis_relay_circuit_opened_total', help: 'Times a destination circuit opened', labelNames: ['destination'], registers: [registry] }),
  noSmarthost: new Counter({
    name: 'portcullis_relay_no_smarthost_total',
    help: 'Recipients outside the accepted domains written to the local Maildir because relay.outbound.smarthost is not set, by kind (bounce: DSNs to outside senders; mail: other mail)',
    labelNames: ['kind'],
    registers: [registry],
  }),
}));
