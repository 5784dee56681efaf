import { Topics, type MailRecord, type MetaOf } from '@portcullis/contract';
import { runStage, type Bus, type StageOutput, type StageResult, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import { Counter, type Logger, type Registry, type Span } from '@portcullis/telemetry';
import { gate } from './gate.js';
import { deliverMessage } from './deliver.js';
import { SmtpDelivery } from './smtp-delivery.js';
import { nextAttempt } from './retry.js';

export interface RelayDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  logger: Logger;
  registry: Registry;
}

export interface Relay {
  stop(): Promise<void>;
}

type Decided = MetaOf<typeof Topics.decided>;

export async function startRelay(deps: RelayDeps): Promise<Relay> {
  const log = deps.logger.child({ component: 'relay' });
  const smtp = new SmtpDelivery({
    hostname: deps.config.hostname,
    maxConnections: deps.config.relay.maxConnectionsPerDestination,
    timeoutMs: deps.config.relay.connectionTimeoutMs,
  });
  const outcomes = new Counter({ name: 'portcullis_relay_recipients_total', help: 'Recipient outcomes at the relay', labelNames: ['status'], registers: [deps.registry] });

  const handle = async (record: MailRecord, span: Span): Promise<StageResult> => {
    const meta = record.meta as Decided;
    const decision = await gate(meta, deps.state);
    const mlog = log.child({ messageId: meta.id, traceId: span.spanContext().traceId });
    switch (decision.action) {
      case 'drop':
        mlog.info({ reason: decision.reason }, 'not delivered');
        outcomes.inc({ status: 'dropped' }, meta.envelope.rcptTo.length);
        return { outputs: [] };
      case 'wait':
        // Look again once the edge has certainly answered; the retry topic holds it meanwhile.
        return { outputs: [{ topic: Topics.retry, record: { meta: { ...meta, delivery: meta.delivery ?? firstDelivery(meta) }, raw: record.raw }, notBefore: decision.until }] };
      case 'quarantine':
        mlog.warn({ reason: decision.reason }, 'quarantined');
        outcomes.inc({ status: 'quarantined' }, meta.envelope.rcptTo.length);
        return { outputs: [{ topic: Topics.quarantine, record }] };
      case 'deliver':
        break;
    }
    const pending = meta.delivery?.pending ?? meta.envelope.rcptTo;
    const results = await deliverMessage({ config: deps.config, state: deps.state, smtp, logger: mlog }, record, pending, span);
    for (const r of results) outcomes.inc({ status: r.status });
    const outputs: StageOutput[] = [];
    const failed = results.filter((r) => r.status === 'permanent');
    if (failed.length) {
      const at = new Date().toISOString();
      outputs.push({
        topic: Topics.failed,
        record: {
          meta: { ...meta, failures: failed.map((f) => ({ recipient: f.recipient, ...(f.status !== 'delivered' && f.code !== undefined ? { code: f.code } : {}), response: f.response, at })) },
          raw: record.raw,
        },
      });
    }
    const retry = nextAttempt(meta, results, deps.config.relay.retryDelaysSeconds);
    if (retry) outputs.push({ topic: Topics.retry, record: { meta: retry.meta, raw: record.raw }, notBefore: retry.notBefore });
    return { outputs };
  };

  const concurrency = deps.config.stages.concurrency;
  const subs: Subscription[] = [
    await runStage(deps.bus, { name: 'relay', group: 'portcullis-relay', from: Topics.decided, concurrency, process: handle }, deps),
    await runStage(deps.bus, { name: 'relay-retry', group: 'portcullis-relay-retry', from: Topics.retry, concurrency, process: handle, newTracePerRecord: true }, deps),
  ];
  return {
    stop: async () => {
      await Promise.all(subs.map((s) => s.stop()));
      smtp.close();
    },
  };
}

function firstDelivery(meta: Decided) {
  const now = new Date().toISOString();
  return { attempt: 0, firstAttemptAt: now, notBefore: now, pending: meta.envelope.rcptTo };
}
