import { Counter, Gauge, type Registry } from '@portcullis/telemetry';

/** Every metric the edge exports, registered once per edge. */
export function edgeMetrics(registry: Registry) {
  return {
    replies: new Counter({
      name: 'portcullis_edge_data_replies_total',
      help: 'Replies at end of DATA, by code, outcome and the verdict heard in session (none: deadline passed or no verdict)',
      labelNames: ['code', 'outcome', 'verdict'],
      registers: [registry],
    }),
    limitRefusals: new Counter({
      name: 'portcullis_edge_limit_refusals_total',
      help: 'Replies given because a protocol limit was reached',
      labelNames: ['listener', 'limit'],
      registers: [registry],
    }),
    flowRefusals: new Counter({
      name: 'portcullis_edge_flow_refusals_total',
      help: 'Connections and commands refused by flow control or the lockout, by rule',
      labelNames: ['listener', 'rule'],
      registers: [registry],
    }),
    stateErrors: new Counter({
      name: 'portcullis_edge_state_errors_total',
      help: 'Shared-state failures at the edge, by rule (rate limits fail open, the AUTH lockout fails closed)',
      labelNames: ['rule'],
      registers: [registry],
    }),
    tlsHandshakes: new Counter({
      name: 'portcullis_edge_tls_handshakes_total',
      help: 'TLS sessions established, by listener, protocol version and cipher',
      labelNames: ['listener', 'version', 'cipher'],
      registers: [registry],
    }),
    sessions: new Gauge({ name: 'portcullis_edge_sessions', help: 'SMTP sessions open', labelNames: ['listener'], registers: [registry] }),
  };
}
