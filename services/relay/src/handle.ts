import { Topics, result, type MailRecord, type MetaOf } from '@portcullis/contract';
import type { StageOutput, StageResult } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import type { Counter, Logger, Span } from '@portcullis/telemetry';
import { gate } from './delivery/gate.js';
import { deliverMessage } from './delivery/deliver.js';
import { nextAttempt, temporaryFate } from './retry/retry.js';
import { bounceRecord } from './retry/bounce.js';
import { statusOf, type DsnRecipient } from './retry/dsn.js';
import { standing, type RelayTrace } from './trace/relay-trace.js';
import type { RecipientOutcome } from './delivery/smtp-delivery.js';
import type { SmtpGroupDeps } from './delivery/smtp-group.js';

type Decided = MetaOf<typeof Topics.decided>;

export interface HandlerDeps extends SmtpGroupDeps {
  config: Config;
  state: SharedState;
  logger: Logger;
  trace: RelayTrace;
  outcomes: Counter<'status'>;
  /** Recipients outside the accepted domains written to the Maildir for want of a smart host. */
  noSmarthost?: Counter<'kind'>;
}

const dsnFor = (r: RecipientOutcome, action: DsnRecipient['action'], fallback: string, host?: string): DsnRecipient => ({
  recipient: r.recipient,
  action,
  status: statusOf(r.response, fallback),
  diagnostic: r.response,
  ...(host ? { remoteMta: host } : {}),
});

/** relay.handle: one decided (or retried) record: the gate, the delivery, and what follows from each recipient's outcome. */
export function relayHandler(deps: HandlerDeps) {
  const { config, trace } = deps;
  return async (record: MailRecord, span: Span): Promise<StageResult> => {
    const meta = record.meta as Decided;
    // A relay that cannot record a delivery must not deliver (a record read again would go out
    // twice): while Redis is away the record waits in place and is tried again, the partition with it.
    const redis = deps.state.unhealthy();
    if (redis) throw new Error(`relay paused: shared state unusable (${redis})`);
    const firstSight = !meta.delivery;
    if (firstSight) trace.firstSeen(meta, record.raw);
    const decision = await gate(meta, deps.state);
    const mlog = deps.logger.child({ messageId: meta.id, traceId: span.spanContext().traceId });
    switch (decision.action) {
      case 'drop':
        mlog.info({ reason: decision.reason }, 'not delivered');
        deps.outcomes.inc({ status: 'dropped' }, meta.envelope.rcptTo.length);
        trace.event(meta.id, 'dropped', decision.reason);
        trace.summary(meta, record.raw, /550|rejected/.test(decision.reason) ? 'refused in session' : 'tempfailed in session');
        return { outputs: [] };
      case 'wait':
        // Look again once the edge has certainly answered; the retry topic holds it meanwhile.
        return { outputs: [{ topic: Topics.retry, record: { meta: { ...meta, delivery: meta.delivery ?? firstDelivery(meta) }, raw: record.raw }, notBefore: decision.until }] };
      case 'quarantine':
        mlog.warn({ reason: decision.reason }, 'quarantined');
        deps.outcomes.inc({ status: 'quarantined' }, meta.envelope.rcptTo.length);
        trace.event(meta.id, 'quarantined', decision.reason, { outcome: 'quarantine' });
        trace.summary(meta, record.raw, 'quarantined');
        // The reason travels with the message, so the quarantine shows why it is there.
        return {
          outputs: [
            { topic: Topics.quarantine, record: { meta: { ...meta, results: [...meta.results, result('relay', 'relay.gate', 'info', decision.reason)] }, raw: record.raw } },
          ],
        };
      case 'deliver':
        break;
    }
    const pending = meta.delivery?.pending ?? meta.envelope.rcptTo;
    const results = await deliverMessage({ ...deps, logger: mlog }, record, pending, span);
    for (const r of results) deps.outcomes.inc({ status: r.status });
    trace.outcomes(meta.id, results);
    return { outputs: followUp(deps, record, results, mlog) };
  };
}

/** relay.follow-up: what the outcome of an attempt sets off: bounces, the next attempt, a delay notice. */
function followUp(deps: HandlerDeps, record: MailRecord, results: RecipientOutcome[], mlog: Logger): StageOutput[] {
  const { config, trace } = deps;
  const meta = record.meta as Decided;
  // Delays count from the end of this attempt, not from its start.
  const now = new Date();

  const outputs: StageOutput[] = [];
  const bounced: DsnRecipient[] = results.filter((r) => r.status === 'permanent').map((r) => dsnFor(r, 'failed', '5.0.0'));
  const temporary = results.filter((r) => r.status === 'temporary');
  const fate = temporaryFate(meta, config.relay, now);
  if (temporary.length && fate.giveUp) {
    bounced.push(
      ...temporary.map((r) => ({
        ...dsnFor(r, 'failed', '4.4.7'),
        status: '4.4.7',
        diagnostic: `gave up after ${Math.round(config.relay.maxAgeSeconds / 3600)} hours; last error: ${r.response}`,
      })),
    );
    trace.event(meta.id, 'expired', `undelivered after the maximum age; ${temporary.length} recipient(s) bounced`);
  }
  if (bounced.length) {
    const at = now.toISOString();
    outputs.push({ topic: Topics.failed, record: { meta: { ...meta, failures: bounced.map((b) => ({ recipient: b.recipient, response: b.diagnostic, at })) }, raw: record.raw } });
    outputs.push(...notify(deps, record, bounced, mlog, now));
  }
  const retry = !fate.giveUp && nextAttempt(meta, results, config.relay.retryDelaysSeconds, now, fate.delayNotice ? { delayNotified: true } : {});
  if (retry) {
    outputs.push({ topic: retry.topic, record: { meta: retry.meta, raw: record.raw }, notBefore: retry.notBefore });
    trace.event(meta.id, 'retry scheduled', `attempt ${retry.meta.delivery!.attempt + 1} not before ${new Date(retry.notBefore).toISOString()}`, { outcome: retry.topic });
    if (fate.delayNotice)
      outputs.push(
        ...notify(
          deps,
          record,
          temporary.map((r) => dsnFor(r, 'delayed', '4.0.0')),
          mlog,
          now,
        ),
      );
  }
  trace.summary(meta, record.raw, standing(results, Boolean(retry)));
  return outputs;
}

/** The DSN to the sender as a new message on the decided topic; none for the null sender. */
function notify(deps: HandlerDeps, original: MailRecord, recipients: DsnRecipient[], log: Logger, now: Date): StageOutput[] {
  const dsn = bounceRecord(deps.config, original, recipients, now);
  const kind = recipients[0]?.action === 'delayed' ? 'delay notice' : 'bounce';
  if (!dsn) {
    log.info({ recipients: recipients.length }, `no ${kind}: the sender is <>`);
    deps.trace.event(original.meta.id, `no ${kind}`, 'the envelope sender is <> (a bounce is never bounced)');
    return [];
  }
  log.info({ dsnId: dsn.meta.id, recipients: recipients.length }, `${kind} sent to the envelope sender`);
  deps.trace.event(original.meta.id, kind, `DSN ${dsn.meta.id} to the envelope sender for ${recipients.map((r) => r.recipient).join(', ')}`);
  return [{ topic: Topics.decided, record: dsn }];
}

function firstDelivery(meta: Decided) {
  const now = new Date().toISOString();
  return { attempt: 0, firstAttemptAt: now, notBefore: now, pending: meta.envelope.rcptTo };
}
