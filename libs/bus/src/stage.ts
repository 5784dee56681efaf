import { decodeMail, encodeMail, Headers, RecordError, Topics, type MailRecord, type MailTopic } from '@portcullis/contract';
import { extractTrace, injectTrace, startSpan, startLinkedSpan, endSpan, SpanKind, stageMetrics, type Logger, type Span, type Registry } from '@portcullis/telemetry';
import { NOT_BEFORE_HEADER, type Bus, type InRecord, type OutRecord, type Subscription } from './bus.js';

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
   * Does the stage's work on one record. Throw only for a temporary failure
   * (a dependency down): the record is then handed over again, never dropped.
   */
  process(record: MailRecord, span: Span): Promise<StageResult>;
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
export async function deadLetter(bus: Bus, rec: InRecord, group: string, reason: string): Promise<void> {
  await bus.publish(Topics.deadLetter, [
    {
      key: rec.key ?? `${rec.topic}/${rec.partition}/${rec.offset}`,
      value: rec.value,
      headers: {
        ...rec.headers,
        [Headers.deadLetterReason]: reason.slice(0, 1000),
        [Headers.deadLetterTopic]: rec.topic,
        [Headers.deadLetterPartition]: String(rec.partition),
        [Headers.deadLetterOffset]: rec.offset,
        [Headers.deadLetterGroup]: group,
      },
    },
  ]);
}

/** Consumes a mail topic with the at-least-once rule: outputs durable first, then the offset. */
export async function runStage(bus: Bus, def: StageDefinition, deps: { logger: Logger; registry: Registry }): Promise<Subscription> {
  const metrics = stageMetrics(deps.registry);
  const log = deps.logger.child({ stage: def.name });
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
        const result = await def.process(record, span);
        const byTopic = new Map<MailTopic, OutRecord[]>();
        for (const out of result.outputs) {
          const list = byTopic.get(out.topic) ?? [];
          list.push(toOutRecord(out.record, span, out.topic, out.notBefore));
          byTopic.set(out.topic, list);
        }
        await Promise.all([...byTopic].map(([topic, recs]) => bus.publish(topic, recs)));
        metrics.processed.inc({ stage: def.name, outcome: 'ok' });
        rlog.info({ to: result.outputs.map((o) => o.topic), verdict: record.meta.verdict?.action }, 'record processed');
        if (result.afterDurable) {
          await result.afterDurable().catch((err: Error) => rlog.warn({ error: err.message }, 'post-processing step failed'));
        }
        endSpan(span);
      } catch (err) {
        metrics.processed.inc({ stage: def.name, outcome: 'retry' });
        endSpan(span, err);
        rlog.warn({ error: (err as Error).message }, 'stage failed, record will be retried');
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
