import { perRegistry } from '@portcullis/service';
import { Counter, Gauge, type Registry } from '@portcullis/telemetry';

export interface EdgeMetrics {
  replies: Counter<'code' | 'outcome' | 'verdict'>;
  limitRefusals: Counter<'listener' | 'limit'>;
  flowRefusals: Counter<'listener' | 'rule'>;
  stateErrors: Counter<'rule'>;
  tlsHandshakes: Counter<'listener' | 'version' | 'cipher'>;
  commandTimeouts: Counter<'listener' | 'phase'>;
  reclaims: Counter<'listener' | 'reason' | 'phase'>;
  underPressure: Gauge<'listener'>;
  sessions: Gauge<'listener'>;
}

/** Every metric the edge exports, registered once per registry. */
export const edgeMetrics = perRegistry((registry: Registry): EdgeMetrics => ({
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
    help: 'Shared-state failures at the edge, by rule (rate limits fail open, the login lockout fails closed)',
    labelNames: ['rule'],
    registers: [registry],
  }),
  tlsHandshakes: new Counter({
    name: 'portcullis_edge_tls_handshakes_total',
    help: 'TLS sessions established, by listener, protocol version and cipher',
    labelNames: ['listener', 'version', 'cipher'],
    registers: [registry],
  }),
  commandTimeouts: new Counter({
    name: 'portcullis_edge_command_timeouts_total',
    help: 'Sessions closed (421 4.4.2) because the client took too long for its next command line, by phase (RFC 5321 4.5.3.2)',
    labelNames: ['listener', 'phase'],
    registers: [registry],
  }),
  reclaims: new Counter({
    name: 'portcullis_edge_sessions_reclaimed_total',
    help: 'Idle sessions without MAIL closed (421 4.7.0) to make room for a new connection, by the slot that ran short and the phase the session was in',
    labelNames: ['listener', 'reason', 'phase'],
    registers: [registry],
  }),
  underPressure: new Gauge({
    name: 'portcullis_edge_slots_under_pressure',
    help: '1 while a listener has at least smtp.reclaim.stressAtFraction of maxClients open (pre-MAIL timeouts shortened)',
    labelNames: ['listener'],
    registers: [registry],
  }),
  sessions: new Gauge({ name: 'portcullis_edge_sessions', help: 'SMTP sessions open', labelNames: ['listener'], registers: [registry] }),
}));
