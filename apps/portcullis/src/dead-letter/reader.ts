import { Topics } from '@portcullis/contract';
import type { Bus, KeptRecord, PartitionOffsets } from '@portcullis/bus';
import type { SharedState } from '@portcullis/state';
import type { Logger } from '@portcullis/telemetry';
import { REPLAYABLE_TOPICS, replayHeaders, summarise, type DeadLetterSummary } from './records.js';

/** Who replayed a record, when and where to: the marker that makes a second replay a refusal. */
export interface ReplayMarker {
  at: string;
  by: string;
  to: string;
}

export type ReplayOutcome =
  | { kind: 'replayed'; record: DeadLetterSummary; marker: ReplayMarker }
  | { kind: 'not-found' }
  | { kind: 'already-replayed'; marker: ReplayMarker }
  | { kind: 'not-replayable'; reason: string };

/** The marker outlives the dead-letter topic's retention (30 days), so a record is replayed once. */
const MARKER_TTL_SECONDS = 31 * 24 * 3600;
const markerKey = (partition: number, offset: string) => `dead-letter:replayed:${partition}:${offset}`;

/**
 * The dead-letter topic's reader: lists records (headers, never bodies), shows one, and replays
 * one to the topic it came from, once, on an operator's word. Nothing here runs on its own, so a
 * record that fails again goes back to the dead-letter topic and stays there: no loop.
 */
export class DeadLetterReader {
  constructor(private readonly deps: { bus: Bus; state: SharedState; logger: Logger }) {}

  async partitions(): Promise<PartitionOffsets[]> {
    return this.deps.bus.offsets(Topics.deadLetter);
  }

  /** Up to `limit` records per partition, from `from` (default: the last `limit` of each). */
  async list(opts: {
    partition?: number;
    from?: string;
    limit: number;
  }): Promise<{ partitions: PartitionOffsets[]; records: (DeadLetterSummary & { replayed?: ReplayMarker })[] }> {
    const partitions = (await this.partitions()).filter((p) => opts.partition === undefined || p.partition === opts.partition);
    const reads = partitions
      .filter((p) => BigInt(p.high) > BigInt(p.low))
      .map((p) => {
        const last = BigInt(p.high) - BigInt(opts.limit);
        const from = opts.from ?? String(last > BigInt(p.low) ? last : BigInt(p.low));
        return this.deps.bus.read(Topics.deadLetter, { partition: p.partition, from, limit: opts.limit, headersOnly: true });
      });
    const records = (await Promise.all(reads)).flat().map(summarise);
    const withMarkers = await Promise.all(records.map(async (r) => ({ ...r, ...(await this.markerField(r.partition, r.offset)) })));
    return { partitions, records: withMarkers };
  }

  async show(partition: number, offset: string): Promise<{ record: DeadLetterSummary; headers: Record<string, string>; replayed?: ReplayMarker } | null> {
    const rec = await this.one(partition, offset, true);
    if (!rec) return null;
    return { record: summarise(rec), headers: rec.headers, ...(await this.markerField(partition, offset)) };
  }

  /**
   * Publishes the original bytes back to the source topic, headers kept (attempts too) but for
   * the dead-letter ones. The marker is claimed first, so two operators cannot both replay it;
   * it is dropped again if the publish fails, so a failed replay can be tried again.
   */
  async replay(partition: number, offset: string, by: string): Promise<ReplayOutcome> {
    const rec = await this.one(partition, offset, false);
    if (!rec) return { kind: 'not-found' };
    const record = summarise(rec);
    if (!REPLAYABLE_TOPICS.has(record.sourceTopic)) {
      return { kind: 'not-replayable', reason: `its source topic ${JSON.stringify(record.sourceTopic)} is not one of the gateway's topics` };
    }
    const marker: ReplayMarker = { at: new Date().toISOString(), by, to: record.sourceTopic };
    const key = markerKey(partition, offset);
    const held = await this.deps.state.claim(key, JSON.stringify(marker), MARKER_TTL_SECONDS);
    if (held !== JSON.stringify(marker)) return { kind: 'already-replayed', marker: JSON.parse(held) as ReplayMarker };
    try {
      await this.deps.bus.publish(record.sourceTopic, [{ key: rec.key ?? record.messageId ?? `${partition}/${offset}`, value: rec.value, headers: replayHeaders(rec.headers) }]);
    } catch (err) {
      await this.deps.state.del(key).catch(() => undefined);
      throw err;
    }
    this.deps.logger.warn(
      { by, deadLetterPartition: partition, deadLetterOffset: offset, to: record.sourceTopic, messageId: record.messageId, attempts: record.attempts, reason: record.reason },
      'dead-letter record replayed',
    );
    return { kind: 'replayed', record, marker };
  }

  private async one(partition: number, offset: string, headersOnly: boolean): Promise<KeptRecord | null> {
    const [rec] = await this.deps.bus.read(Topics.deadLetter, { partition, from: offset, limit: 1, headersOnly });
    return rec && rec.offset === offset ? rec : null;
  }

  private async markerField(partition: number, offset: string): Promise<{ replayed?: ReplayMarker }> {
    const raw = await this.deps.state.get(markerKey(partition, offset));
    return raw ? { replayed: JSON.parse(raw) as ReplayMarker } : {};
  }
}
