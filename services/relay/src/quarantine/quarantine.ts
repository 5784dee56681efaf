import { decodeMail, Topics, verdict, type MailRecord } from '@portcullis/contract';
import { toOutRecord, type Bus, type InRecord, type Subscription } from '@portcullis/bus';
import { startSpan, endSpan, SpanKind, type Logger } from '@portcullis/telemetry';
import { subjectOf } from '../retry/bounce.js';
import type { RelayTrace } from '../trace/relay-trace.js';
import type { QuarantineEntry, QuarantineStore } from './quarantine-store.js';

/** Why a quarantined record is there: the relay's gate reason, else the verdict's. */
function reasonOf(record: MailRecord): string {
  const gate = record.meta.results.filter((r) => r.check === 'relay.gate').at(-1);
  return gate?.reason ?? record.meta.verdict?.reason ?? 'quarantined';
}

export function entryOf(rec: InRecord, record: MailRecord): QuarantineEntry {
  return {
    id: record.meta.id,
    partition: rec.partition,
    offset: rec.offset,
    from: record.meta.envelope.mailFrom,
    rcpt: record.meta.envelope.rcptTo,
    subject: subjectOf(record.raw) ?? '',
    reason: reasonOf(record),
    quarantinedAt: record.meta.results.filter((r) => r.check === 'relay.gate').at(-1)?.at ?? new Date().toISOString(),
    receivedAt: record.meta.envelope.receivedAt,
    status: 'held',
  };
}

/**
 * relay.quarantine: the quarantine topic is the durable store (its retention
 * is the quarantine period); this consumer keeps the index of what it holds,
 * with each message's position, so that it can be listed without reading the
 * topic and fetched by position to view or release it.
 */
export async function indexQuarantine(deps: { bus: Bus; store: QuarantineStore; logger: Logger }): Promise<Subscription> {
  return deps.bus.consume({
    group: 'portcullis-quarantine-index',
    topic: Topics.quarantine,
    concurrency: 4,
    handle: async (rec) => {
      const entry = readEntry(rec, deps.logger);
      if (entry) await deps.store.add(entry);
    },
  });
}

/** The index entry of a quarantine record, or null (logged) when the record cannot be read. */
export function readEntry(rec: InRecord, logger: Logger): QuarantineEntry | null {
  try {
    return entryOf(rec, decodeMail(Topics.quarantine, rec.value));
  } catch (err) {
    logger.error({ partition: rec.partition, offset: rec.offset, error: (err as Error).message }, 'unreadable quarantine record skipped by the index');
    return null;
  }
}

export class QuarantineActions {
  constructor(private readonly deps: { bus: Bus; store: QuarantineStore; trace: RelayTrace; logger: Logger }) {}

  /** The quarantined message, read from the topic by the position the index holds. */
  async load(id: string): Promise<{ entry: QuarantineEntry; record: MailRecord } | null> {
    const entry = await this.deps.store.get(id);
    if (!entry) return null;
    const rec = await this.deps.bus.fetch(Topics.quarantine, entry.partition, entry.offset);
    if (!rec) return null;
    return { entry, record: decodeMail(Topics.quarantine, rec.value) };
  }

  /**
   * Hands the message to the relay again with a deliver verdict. The fate
   * already says the sender heard 250, so the gate lets it through. A message
   * is released once: a second release publishes nothing and audits nothing,
   * and says who released it (`already`).
   */
  async release(id: string, by: string): Promise<{ entry: QuarantineEntry; already: boolean } | null> {
    const found = await this.load(id);
    if (!found) return null;
    if (found.entry.status === 'released') return { entry: found.entry, already: true };
    const at = new Date().toISOString();
    const first = await this.deps.store.claimRelease(id, by, at);
    if (first) return { entry: { ...found.entry, status: 'released', releasedBy: first.by, releasedAt: first.at }, already: true };
    const { replyTo: _waitNoMore, delivery: _fresh, ...meta } = found.record.meta;
    const released: MailRecord = { meta: { ...meta, verdict: verdict('deliver', `released from quarantine by ${by}`, 'quarantine.release') }, raw: found.record.raw };
    const span = startSpan('quarantine release', SpanKind.PRODUCER, undefined, { 'portcullis.message_id': id });
    try {
      await this.deps.bus.publish(Topics.decided, [toOutRecord(released, span, Topics.decided)]);
    } catch (err) {
      await this.deps.store.unclaimRelease(id).catch(() => undefined);
      throw err;
    } finally {
      endSpan(span);
    }
    const entry: QuarantineEntry = { ...found.entry, status: 'released', releasedBy: by, releasedAt: at };
    await this.deps.store.update(entry);
    await this.deps.store.audit({ at: entry.releasedAt!, action: 'release', id, by });
    this.deps.logger.warn({ messageId: id, by }, 'released from quarantine');
    this.deps.trace.event(id, 'released', `released from quarantine by ${by}`, { stage: 'quarantine' });
    return { entry, already: false };
  }

  /** Forgets the message: it can no longer be listed, viewed or released; the topic drops it at retention. */
  async remove(id: string, by: string): Promise<boolean> {
    const removed = await this.deps.store.remove(id);
    if (!removed) return false;
    await this.deps.store.audit({ at: new Date().toISOString(), action: 'delete', id, by });
    this.deps.logger.warn({ messageId: id, by }, 'deleted from quarantine');
    this.deps.trace.event(id, 'deleted', `deleted from quarantine by ${by}`, { stage: 'quarantine' });
    return true;
  }
}
