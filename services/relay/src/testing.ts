/**
 * Building the relay in tests (`@portcullis/relay/testing`, never imported by service code): its
 * record handler as the service builds it (relayHandler with SMTP delivery, capabilities, circuit
 * breaker, the message trace and the metrics), on a given or in-memory state.
 */
import { ConfigSchema, type Config } from '@portcullis/config';
import { MessageTraceReader, MessageTraceWriter } from '@portcullis/message-trace';
import { MemoryState, type SharedState } from '@portcullis/state';
import { createLogger, createRegistry, type Registry } from '@portcullis/telemetry';
import { Capabilities } from './delivery/capabilities.js';
import { CircuitBreaker } from './delivery/circuit.js';
import { SmtpDelivery } from './delivery/smtp-delivery.js';
import { relayHandler } from './handle.js';
import { relayMetrics } from './metrics.js';
import { RelayTrace } from './trace/relay-trace.js';

export interface TestRelay {
  config: Config;
  state: SharedState;
  registry: Registry;
  handle: ReturnType<typeof relayHandler>;
  writer: MessageTraceWriter;
  reader: MessageTraceReader;
}

export function testRelay(opts: { config?: Config; state?: SharedState; timeoutMs?: number } = {}): TestRelay {
  const config = opts.config ?? ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });
  const state = opts.state ?? new MemoryState({ maxEntries: 1000 });
  const registry = createRegistry();
  const logger = createLogger({ level: 'silent', service: 'test' });
  const timeoutMs = opts.timeoutMs ?? 1000;
  const writer = new MessageTraceWriter({ state, logger, registry, options: config.messageTrace });
  const { outcomes, noSmarthost } = relayMetrics(registry);
  const handle = relayHandler({
    config,
    state,
    logger,
    trace: new RelayTrace(writer),
    outcomes,
    noSmarthost,
    smtp: new SmtpDelivery({ hostname: 'mx', maxConnections: 1, timeoutMs }),
    capabilities: new Capabilities({ hostname: 'mx', timeoutMs }),
    breaker: new CircuitBreaker({ state, options: config.relay.circuit, logger }),
  });
  return { config, state, registry, handle, writer, reader: new MessageTraceReader(state) };
}
