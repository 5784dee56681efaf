import { decodeMail, encodeMail, Headers, RecordError, Topics, type CheckResult, type MailRecord, type MailTopic } from '@portcullis/contract';
import { extractTrace, injectTrace, startSpan, startLinkedSpan, endSpan, SpanKind, stageMetrics, type Logger, type Span, type Registry } from '@portcullis/telemetry';
import { TaskFailure } from '@portcullis/workers';
import { NOT_BEFORE_HEADER, type Bus, type InRecord, type OutRecord, type Subscription } from './bus.js';
import { AttemptLedger, failureText, giveUp, recordBudget, unbounded, type RecordBudget, type StageLimits, type StageState, type StageTrace } from './stage-budget.js';

export { unbounded, recordBudget, type RecordBudget, type StageLimits, type StageState, type StageTrace } from './stage-budget.js';

export interface StageOutput {
  topic: MailTopic;
  record: MailRecord;
  /** Epoch ms before which the next consumer must not handle it (delayed retry). */
  notBefore?: number;
}

export interface StageResult {
  /** Records to hand on; all are durable before the input's offset is committed. */
  outputs: StageOutput[];
  /** Runs once the outputs are durable (e.g. telling the edge the verdict). Failures are logged, not retried. */
  afterDurable?: () => Promise<void>;
}

export interface StageDefinition {
  /** Stage name for logs, metrics and spans: auth, reputation, content, relay. */
  name: string;
  /** Consumer group; all replicas of a service share one. */
  group: string;
  from: MailTopic;
  concurrency: number;
  /**
   * Start a new trace for each record, linked to the one that wrote it,
   * instead of continuing it (retries: a trace must not span hours).
   */
  newTracePerRecord?: boolean;
  /**
   * Runs under the stage budget (stages.budgetMs, stages.maxAttempts): the checking stages.
   * Over budget the record is tried again in place, and after the last attempt answered
   * tempfail and sent to the dead-letter topic. The relay is not budgeted: its work is I/O with
   * timeouts of its own, and its failures have their own path (retry tiers, bounces).
   */
  budgeted?: boolean;
  /**
   * Does the stage's work on one record. Throw only for a temporary failure
   * (a dependency down): the record is then handed over again, never dropped.
   * CPU work runs in a worker pool with `budget.signal`, so that over budget it is terminated.
   */
  process(record: MailRecord, span: Span, budget: RecordBudget): Promise<StageResult>;
}

/** A check run before the stage's own (stages.extraChecks); its results join the record's. */
export type ExtraCheck = (record: MailRecord, budget: RecordBudget) => Promise<CheckResult[]>;

export interface StageRunDeps {
  logger: Logger;
  registry: Registry;
  /** stages.budgetMs and stages.maxAttempts; the schema's defaults without it. */
  config?: { stages: StageLimits };
  /** Attempt counts shared by the replicas, and the edge's reply channel (tempfail after the last attempt). */
  state?: StageState;
  /** The message trace: a record given up on is written there with the reason. */
  trace?: StageTrace;
  extraChecks?: ExtraCheck[];
}

export function mailHeaders(record: MailRecord, span: Span, topic: MailTopic): Record<string, string> {
  return injectTrace(span, { [Headers.messageId]: record.meta.id, [Headers.schema]: topic });
}

export function toOutRecord(record: MailRecord, span: Span, topic: MailTopic, notBefore?: number): OutRecord {
  const headers = mailHeaders(record, span, topic);
  if (notBefore !== undefined) headers[NOT_BEFORE_HEADER] = String(notBefore);
  return { key: record.meta.id, value: encodeMail(record), headers };
}

/**
 * Sends a record that could not be read to the dead-letter topic, untouched,
 * with where it came from and why in its headers. The consumer goes on.
 */
export async function deadLetter(bus: Bus, rec: InRecord, group: string, reason: string, extra: Record<string, string> = {}): Promise<void> {
  await bus.publish(Topics.deadLetter, [
    {
      key: rec.key ?? `${rec.topic}/${rec.partition}/${rec.offset}`,
      value: rec.value,
      headers: {
        ...rec.headers,
        ...extra,
        [Headers.deadLetterReason]: reason.slice(0, 1000),
        [Headers.deadLetterTopic]: rec.topic,
        [Headers.deadLetterPartition]: String(rec.partition),
        [Headers.deadLetterOffset]: rec.offset,
        [Headers.deadLetterGroup]: group,
      },
    },
  ]);
}

/**
 * Consumes a mail topic with the at-least-once rule: outputs durable first, then the offset.
 * A budgeted stage's work on one record is bounded (see StageDefinition.budgeted): over budget
 * is never a pass — the record is tried again, then answered tempfail and dead-lettered.
 */
export async function runStage(bus: Bus, def: StageDefinition, deps: StageRunDeps): Promise<Subscription> {
  const metrics = stageMetrics(deps.registry);
  const log = deps.logger.child({ stage: def.name });
  const limits: StageLimits = deps.config?.stages ?? { budgetMs: 60_000, maxAttempts: 3 };
  const ledger = new AttemptLedger(def.group, deps.state);
  const extras = deps.extraChecks ?? [];
  const work = async (record: MailRecord, span: Span, budget: RecordBudget): Promise<StageResult> => {
    let input = record;
    for (const check of extras) {
      const found = await check(input, budget);
      input = { meta: { ...input.meta, results: [...input.meta.results, ...found] }, raw: input.raw };
    }
    return def.process(input, span, budget);
  };
  return bus.consume({
    group: def.group,
    topic: def.from,
    concurrency: def.concurrency,
    handle: async (rec) => {
      let record: MailRecord;
      try {
        record = decodeMail(def.from, rec.value);
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        log.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset, reason: err.message }, 'unreadable record sent to dead-letter topic');
        await deadLetter(bus, rec, def.group, err.message);
        metrics.deadLettered.inc({ topic: rec.topic });
        return;
      }
      const attributes = {
        'messaging.system': bus.kind === 'kafka' ? 'kafka' : 'memory',
        'messaging.operation.type': 'process',
        'messaging.destination.name': rec.topic,
        'messaging.consumer.group.name': def.group,
        'portcullis.message_id': record.meta.id,
      };
      const span = def.newTracePerRecord
        ? startLinkedSpan(`${def.name} process`, SpanKind.CONSUMER, extractTrace(rec.headers), attributes)
        : startSpan(`${def.name} process`, SpanKind.CONSUMER, extractTrace(rec.headers), attributes);
      const stop = metrics.duration.startTimer({ stage: def.name });
      const rlog = log.child({ messageId: record.meta.id, traceId: span.spanContext().traceId });
      try {
        const result = def.budgeted ? await recordBudget(def.name, limits.budgetMs, (budget) => work(record, span, budget)) : await work(record, span, unbounded());
        const byTopic = new Map<MailTopic, OutRecord[]>();
        for (const out of result.outputs) {
          const list = byTopic.get(out.topic) ?? [];
          list.push(toOutRecord(out.record, span, out.topic, out.notBefore));
          byTopic.set(out.topic, list);
        }
        await Promise.all([...byTopic].map(([topic, recs]) => bus.publish(topic, recs)));
        metrics.processed.inc({ stage: def.name, outcome: 'ok' });
        rlog.info({ to: result.outputs.map((o) => o.topic), verdict: record.meta.verdict?.action }, 'record processed');
        if (def.budgeted) ledger.clear(rec);
        if (result.afterDurable) {
          await result.afterDurable().catch((err: Error) => rlog.warn({ error: err.message }, 'post-processing step failed'));
        }
        endSpan(span);
      } catch (err) {
        if (def.budgeted && err instanceof TaskFailure) {
          const attempts = await ledger.add(rec);
          if (attempts >= limits.maxAttempts) {
            // The last attempt: never a silent pass. Dead-lettered (durable) first, then the edge is told.
            try {
              await giveUp({
                deadLetter: (reason, headers) => deadLetter(bus, rec, def.group, reason, headers),
                stage: def.name,
                rec,
                record,
                span,
                failure: err,
                attempts,
                budgetMs: limits.budgetMs,
                deps,
                log: rlog,
              });
            } catch (failed) {
              // The dead-letter topic could not be written: the record is handed over again (and given up again).
              endSpan(span, failed);
              throw failed;
            }
            metrics.deadLettered.inc({ topic: rec.topic });
            metrics.processed.inc({ stage: def.name, outcome: 'dead-letter' });
            ledger.clear(rec);
            return;
          }
          span.addEvent('portcullis.stage.over_budget', { 'portcullis.reason': err.reason, 'portcullis.attempt': attempts });
          rlog.warn({ reason: err.reason, attempt: attempts, maxAttempts: limits.maxAttempts }, 'record over its budget, will be tried again');
        }
        metrics.processed.inc({ stage: def.name, outcome: 'retry' });
        endSpan(span, err instanceof TaskFailure ? new Error(failureText(err, limits.budgetMs)) : err);
        if (!(err instanceof TaskFailure)) rlog.warn({ error: (err as Error).message }, 'stage failed, record will be retried');
        throw err;
      } finally {
        stop();
      }
    },
  });
}

/** Services whose checks have not landed yet hand records on unchanged. */
export function passThroughStage(opts: { name: string; from: MailTopic; to: MailTopic; concurrency: number }): StageDefinition {
  return {
    name: opts.name,
    group: `portcullis-${opts.name}`,
    from: opts.from,
    concurrency: opts.concurrency,
    process: async (record) => ({ outputs: [{ topic: opts.to, record }] }),
  };
}
