import { RetryTierTopics, Topics } from '@portcullis/contract';
import { runStage, toOutRecord, type Bus, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import { MessageTraceReader, MessageTraceWriter } from '@portcullis/message-trace';
import { Counter, startSpan, endSpan, SpanKind, type AdminHandler, type Logger, type Registry } from '@portcullis/telemetry';
import { SmtpDelivery } from './smtp-delivery.js';
import { Capabilities } from './capabilities.js';
import { CircuitBreaker } from './circuit.js';
import { RelayTrace } from './relay-trace.js';
import { relayHandler } from './handle.js';
import { QuarantineStore } from './quarantine-store.js';
import { QuarantineActions, indexQuarantine } from './quarantine.js';
import { quarantineAdmin } from './quarantine-admin.js';
import { reindexQuarantine } from './quarantine-reindex.js';
import { traceAdmin } from './trace-admin.js';
import { buildDigests } from './digest.js';
import { startPeriodic } from './periodic.js';

export interface RelayDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  logger: Logger;
  registry: Registry;
  admin?: (area: string, handler: AdminHandler) => void;
  /**
   * Whether this replica runs the periodic jobs (quarantine digests). Defaults to always: the jobs
   * are safe to run on every replica (a claim per recipient and period), leadership only saves work.
   */
  isLeader?: () => boolean | Promise<boolean>;
}

export interface Relay {
  stop(): Promise<void>;
  /** The periodic jobs, for a scheduler outside (tests, a leader-elected runner). */
  jobs: { digests(): Promise<number> };
}

export async function startRelay(deps: RelayDeps): Promise<Relay> {
  const { config } = deps;
  const log = deps.logger.child({ component: 'relay' });
  const smtp = new SmtpDelivery({ hostname: config.hostname, maxConnections: config.relay.maxConnectionsPerDestination, timeoutMs: config.relay.connectionTimeoutMs });
  const outcomes = new Counter({ name: 'portcullis_relay_recipients_total', help: 'Recipient outcomes at the relay', labelNames: ['status'], registers: [deps.registry] });
  const circuitOpens = new Counter({ name: 'portcullis_relay_circuit_opened_total', help: 'Times a destination circuit opened', labelNames: ['destination'], registers: [deps.registry] });
  const noSmarthost = new Counter({
    name: 'portcullis_relay_no_smarthost_total',
    help: 'Recipients outside the accepted domains written to the local Maildir because relay.outbound.smarthost is not set, by kind (bounce: DSNs to outside senders; mail: other mail)',
    labelNames: ['kind'],
    registers: [deps.registry],
  });
  if (!config.relay.outbound?.smarthost) {
    log.warn('relay.outbound.smarthost is not set: bounces and other mail for outside addresses are written to the local Maildir (relay.maildir), not sent; see portcullis_relay_no_smarthost_total');
  }
  const breaker = new CircuitBreaker({ state: deps.state, options: config.relay.circuit, logger: log, onOpen: (destination) => circuitOpens.inc({ destination }) });
  const writer = new MessageTraceWriter({ state: deps.state, logger: log, registry: deps.registry, options: config.messageTrace });
  const trace = new RelayTrace(writer);
  const handle = relayHandler({ config, state: deps.state, logger: log, trace, outcomes, noSmarthost, smtp, breaker, capabilities: new Capabilities({ hostname: config.hostname, timeoutMs: config.relay.connectionTimeoutMs }) });

  const concurrency = config.stages.concurrency;
  const tiers = RetryTierTopics.slice(0, config.relay.retryDelaysSeconds.length);
  const subs: Subscription[] = [
    await runStage(deps.bus, { name: 'relay', group: 'portcullis-relay', from: Topics.decided, concurrency, process: handle }, deps),
    await runStage(deps.bus, { name: 'relay-retry', group: 'portcullis-relay-retry', from: Topics.retry, concurrency, process: handle, newTracePerRecord: true }, deps),
    ...(await Promise.all(
      tiers.map((topic, i) => runStage(deps.bus, { name: 'relay-retry', group: `portcullis-relay-retry-t${i}`, from: topic, concurrency, process: handle, newTracePerRecord: true }, deps)),
    )),
  ];

  const store = new QuarantineStore(deps.state, config.quarantine);
  const actions = new QuarantineActions({ bus: deps.bus, store, trace, logger: log });
  subs.push(await indexQuarantine({ bus: deps.bus, store, logger: log }));
  deps.admin?.('trace', traceAdmin(new MessageTraceReader(deps.state)));

  const digests = async (): Promise<number> => {
    const records = await buildDigests({ config, store, state: deps.state });
    if (records.length === 0) return 0;
    const span = startSpan('quarantine digest', SpanKind.PRODUCER);
    try {
      await deps.bus.publish(Topics.decided, records.map((r) => toOutRecord(r, span, Topics.decided)));
    } finally {
      endSpan(span);
    }
    log.info({ digests: records.length }, 'quarantine digests sent');
    return records.length;
  };
  deps.admin?.('quarantine', quarantineAdmin(store, actions, log, digests, () => reindexQuarantine({ bus: deps.bus, store, logger: log })));
  const periodic = startPeriodic([{ name: 'quarantine-digest', intervalMs: 60_000, run: async () => void (await digests()) }], { logger: log, ...(deps.isLeader ? { isLeader: deps.isLeader } : {}) });

  return {
    jobs: { digests },
    stop: async () => {
      periodic.stop();
      await Promise.all(subs.map((s) => s.stop()));
      smtp.close();
      await writer.flush();
    },
  };
}
