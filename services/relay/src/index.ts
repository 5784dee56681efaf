import { RetryTierTopics, Topics } from '@portcullis/contract';
import { runStage, toOutRecord, type StageDefinition, type Subscription } from '@portcullis/bus';
import { MessageTraceReader, MessageTraceWriter } from '@portcullis/message-trace';
import type { ServiceDeps } from '@portcullis/service';
import { startSpan, endSpan, SpanKind } from '@portcullis/telemetry';
import { SmtpDelivery } from './delivery/smtp-delivery.js';
import { Capabilities } from './delivery/capabilities.js';
import { CircuitBreaker } from './delivery/circuit.js';
import { RelayTrace } from './trace/relay-trace.js';
import { relayHandler } from './handle.js';
import { QuarantineStore } from './quarantine/quarantine-store.js';
import { QuarantineActions, indexQuarantine } from './quarantine/quarantine.js';
import { quarantineAdmin } from './quarantine/quarantine-admin.js';
import { reindexQuarantine } from './quarantine/quarantine-reindex.js';
import { traceAdmin } from './trace/trace-admin.js';
import { buildDigests } from './quarantine/digest.js';
import { startPeriodic } from './retry/periodic.js';
import { relayMetrics } from './metrics.js';

export { relayMetrics, type RelayMetrics } from './metrics.js';

export interface RelayDeps extends ServiceDeps {
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

/**
 * The relay's stages, all with the one handler (relayHandler): the decided topic, the retry topic,
 * and one retry tier per relay.retryDelaysSeconds entry (each its own consumer group, a new trace
 * per record: a retry hours later must not continue the first trace).
 */
export function relayStages(deps: Pick<RelayDeps, 'config'>, handle: StageDefinition['process']): StageDefinition[] {
  const concurrency = deps.config.stages.concurrency;
  const tiers = RetryTierTopics.slice(0, deps.config.relay.retryDelaysSeconds.length);
  return [
    { name: 'relay', group: 'portcullis-relay', from: Topics.decided, concurrency, process: handle },
    { name: 'relay-retry', group: 'portcullis-relay-retry', from: Topics.retry, concurrency, process: handle, newTracePerRecord: true },
    ...tiers.map((topic, i): StageDefinition => ({
      name: 'relay-retry',
      group: `portcullis-relay-retry-t${i}`,
      from: topic,
      concurrency,
      process: handle,
      newTracePerRecord: true,
    })),
  ];
}

export async function startRelay(deps: RelayDeps): Promise<Relay> {
  const { config } = deps;
  const log = deps.logger.child({ component: 'relay' });
  const smtp = new SmtpDelivery({ hostname: config.hostname, maxConnections: config.relay.maxConnectionsPerDestination, timeoutMs: config.relay.connectionTimeoutMs });
  const { outcomes, circuitOpens, noSmarthost } = relayMetrics(deps.registry);
  if (!config.relay.outbound?.smarthost) {
    log.warn(
      'relay.outbound.smarthost is not set: bounces and other mail for outside addresses are written to the local Maildir (relay.maildir), not sent; see portcullis_relay_no_smarthost_total',
    );
  }
  const breaker = new CircuitBreaker({ state: deps.state, options: config.relay.circuit, logger: log, onOpen: (destination) => circuitOpens.inc({ destination }) });
  const writer = new MessageTraceWriter({ state: deps.state, logger: log, registry: deps.registry, options: config.messageTrace });
  const trace = new RelayTrace(writer);
  const handle = relayHandler({
    config,
    state: deps.state,
    logger: log,
    trace,
    outcomes,
    noSmarthost,
    smtp,
    breaker,
    capabilities: new Capabilities({ hostname: config.hostname, timeoutMs: config.relay.connectionTimeoutMs }),
  });

  const subs: Subscription[] = await Promise.all(relayStages(deps, handle).map((stage) => runStage(deps.bus, stage, deps)));

  const store = new QuarantineStore(deps.state, config.quarantine);
  const actions = new QuarantineActions({ bus: deps.bus, store, trace, logger: log });
  subs.push(await indexQuarantine({ bus: deps.bus, store, logger: log }));
  deps.admin?.('trace', traceAdmin(new MessageTraceReader(deps.state)));

  const digests = async (): Promise<number> => {
    const records = await buildDigests({ config, store, state: deps.state });
    if (records.length === 0) return 0;
    const span = startSpan('quarantine digest', SpanKind.PRODUCER);
    try {
      await deps.bus.publish(
        Topics.decided,
        records.map((r) => toOutRecord(r, span, Topics.decided)),
      );
    } finally {
      endSpan(span);
    }
    log.info({ digests: records.length }, 'quarantine digests sent');
    return records.length;
  };
  deps.admin?.(
    'quarantine',
    quarantineAdmin(store, actions, log, digests, () => reindexQuarantine({ bus: deps.bus, store, logger: log })),
  );
  const periodic = startPeriodic([{ name: 'quarantine-digest', intervalMs: 60_000, run: async () => void (await digests()) }], {
    logger: log,
    ...(deps.isLeader ? { isLeader: deps.isLeader } : {}),
  });

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
