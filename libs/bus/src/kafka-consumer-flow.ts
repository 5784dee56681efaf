import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import type { Gauge, Logger } from '@portcullis/telemetry';
import { dueIn, type ConsumeOptions, type InRecord } from './bus.js';
import { backoffMs, sleep } from './backoff.js';
import { FinishedPrefix } from './finished-prefix.js';
import type { InFlightRoom } from './in-flight-room.js';

/** How often what was finished is committed (and the most a restart hands over again, in time). */
const COMMIT_EVERY_MS = 1000;
/** How long stop() waits for records in hand before it commits what was done and leaves. */
const STOP_WAIT_MS = 10_000;
/** The longest a wait inside eachBatch goes without a heartbeat (kafkajs beats only between batches). */
const BEAT_EVERY_MS = 1000;

/**
 * One kafkajs consumer's flow: records are handed to their handlers as they arrive, up to the
 * room's bound, and eachBatch returns once its records are handed over, so that kafkajs goes on
 * fetching while a slow or stuck record is still in its handler. What kafkajs 2.2.4 does, read in
 * its source (consumer/runner.js, consumerGroup.js, offsetManager/index.js), and what we rely on:
 *
 * - The fetch position of a partition is offsetManager.nextOffset: the last resolveOffset + 1, or
 *   the committed offset when nothing was resolved in this generation. So a record is resolved as
 *   soon as it is handed over (else the next fetch would return it again); resolving commits
 *   nothing by itself.
 * - With autoCommit false kafkajs never commits on its own: autoCommitOffsets and
 *   autoCommitOffsetsIfNecessary (after a batch, on an error in eachBatch, on a heartbeat that
 *   finds a rebalance) return at once, and stop/leave commit nothing. A commit without offsets
 *   would commit the resolved (= handed over) positions; we only ever call commitOffsets with
 *   explicit offsets: each partition's finished prefix (FinishedPrefix), never past a record in
 *   hand.
 * - Each join makes a new OffsetManager with empty resolved offsets and re-reads the committed
 *   ones from the broker: after a rebalance a partition is read again from its committed offset,
 *   by us or by its new owner, so records that were in hand are handed over again (at-least-once;
 *   the relay de-duplicates deliveries). Our trackers are dropped at every join (GROUP_JOIN) and
 *   the records of the old generation stop at their next retry and never count towards a commit:
 *   a late completion cannot move a revoked partition's commit past what its new owner has. The
 *   same when the consumer stops (STOP: disconnected, or kafkajs restarting it after a crash). (A
 *   commit already on its way when the group rebalances carries a finished prefix all the same,
 *   so even then nothing unfinished is skipped.)
 * - kafkajs heartbeats only between batches; a wait inside eachBatch (a record's not-before time,
 *   room under the bound) beats itself, and a heartbeat that fails (a rebalance) ends eachBatch
 *   so that kafkajs can re-join.
 */
export class ConsumerFlow {
  private generation = 0;
  private assigned = new Set<number>();
  private readonly trackers = new Map<number, FinishedPrefix>();
  private readonly committed = new Map<number, string>();
  private readonly highWatermarks = new Map<number, bigint>();
  private closed = false;
  private committing: Promise<void> | null = null;
  private commitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly opts: ConsumeOptions,
    private readonly room: InFlightRoom,
    private readonly log: Logger,
    private readonly isUp: () => boolean,
    private readonly lag: Gauge<'topic' | 'group' | 'partition'> | null,
    private readonly inFlight: Gauge<'topic' | 'group'> | null,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.newGeneration(e.payload.memberAssignment[opts.topic] ?? []));
    // Stopped (disconnected, or by kafkajs before it restarts after a crash): nothing is ours
    // until the next join, and the records in hand stop at their next retry.
    consumer.on(consumer.events.STOP, () => this.newGeneration([]));
  }

  private newGeneration(partitions: number[]): void {
    this.generation++;
    this.trackers.clear();
    this.committed.clear();
    this.assigned = new Set(partitions);
  }

  async run(): Promise<void> {
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_EVERY_MS);
    this.commitTimer.unref();
  }

  /** The consumer is gone (crashed): its records stop at their next retry and it commits no more. */
  close(): void {
    this.closed = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
  }

  /** Stops fetching, waits (bounded) for records in hand, commits what was done. */
  async stop(): Promise<void> {
    try {
      this.consumer.pause([{ topic: this.opts.topic }]);
    } catch {
      // Not running (it never joined): there is nothing to fetch.
    }
    const drained = await this.room.drained(STOP_WAIT_MS);
    if (!drained) this.log.warn({ inFlight: this.room.inFlight }, 'stopping with records still in hand; they will be read again');
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.committing; // one begun before the last records finished
    await this.commit();
    this.closed = true;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const generation = this.generation;
    const alive = () => this.isUp() && !this.closed && isRunning() && !isStale() && this.generation === generation;
    const { partition } = batch;
    const labels = { topic: batch.topic, group: this.opts.group, partition: String(partition) };
    let tracker = this.trackers.get(partition);
    const first = batch.messages[0]?.offset ?? batch.firstOffset();
    // Read again from further back in the same generation (kafkajs resets the position to the
    // committed offset when the fetch position is out of range): start a new tracker; the old
    // one's late completions then count for nothing, and the new one commits only what it sees
    // finished.
    if (!tracker || (first !== null && !tracker.follows(first))) this.trackers.set(partition, (tracker = new FinishedPrefix()));
    this.highWatermarks.set(partition, BigInt(batch.highWatermark));
    this.lag?.set(labels, Number(batch.offsetLagLow()));
    for (const m of batch.messages) {
      if (!alive()) return;
      const rec = toInRecord(batch.topic, partition, m);
      // A not-before record waits in place: nothing after it in the partition goes first (the
      // retry tiers rely on that order).
      for (let wait = dueIn(rec); wait > 0; wait = dueIn(rec)) {
        await sleep(Math.min(BEAT_EVERY_MS, wait));
        if (!alive()) return;
        await heartbeat();
      }
      const size = rec.value.length;
      while (!(await this.room.take(size, BEAT_EVERY_MS))) {
        if (!alive()) return;
        await heartbeat();
      }
      if (!alive()) {
        this.room.give(size);
        return;
      }
      tracker.dispatched(m.offset);
      resolveOffset(m.offset);
      this.inFlight?.set({ topic: batch.topic, group: this.opts.group }, this.room.inFlight);
      void this.handle(rec, generation).then((finished) => {
        this.room.give(size);
        this.inFlight?.set({ topic: batch.topic, group: this.opts.group }, this.room.inFlight);
        if (!finished || this.trackers.get(partition) !== tracker) return;
        tracker.finished(rec.offset);
        this.setLag(labels, partition, tracker);
      });
    }
    // The batch may end in control records no handler sees: step over them too.
    tracker.passed(batch.lastOffset());
    resolveOffset(batch.lastOffset());
    this.setLag(labels, partition, tracker);
  }

  private setLag(labels: Record<'topic' | 'group' | 'partition', string>, partition: number, tracker: FinishedPrefix): void {
    const at = tracker.commitOffset();
    const high = this.highWatermarks.get(partition);
    if (at === null || high === undefined || !this.lag) return;
    const behind = high - BigInt(at);
    this.lag.set(labels, behind > 0n ? Number(behind) : 0);
  }

  /**
   * Hands one record to the handler until it succeeds (true), or until its consumer stops or
   * loses the partition's generation (false: it is read again, never skipped). A failing record
   * is retried in place with back-off; the others of its partition go on meanwhile.
   */
  private async handle(rec: InRecord, generation: number): Promise<boolean> {
    const alive = () => this.isUp() && !this.closed && this.generation === generation;
    for (let attempt = 1; alive(); attempt++) {
      try {
        await this.opts.handle(rec);
        return true;
      } catch (err) {
        this.log.warn({ partition: rec.partition, offset: rec.offset, attempt, error: (err as Error).message }, 'record failed, will retry');
      }
      const until = Date.now() + backoffMs(attempt);
      while (alive() && Date.now() < until) await sleep(Math.min(BEAT_EVERY_MS, until - Date.now()));
    }
    return false;
  }

  /** Commits each assigned partition's finished prefix, when it moved; one commit at a time. */
  private commit(): Promise<void> {
    this.committing ??= this.commitNow().finally(() => (this.committing = null));
    return this.committing;
  }

  private async commitNow(): Promise<void> {
    if (this.closed) return;
    const generation = this.generation;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [partition, tracker] of this.trackers) {
      const offset = tracker.commitOffset();
      if (offset === null || !this.assigned.has(partition) || this.committed.get(partition) === offset) continue;
      offsets.push({ topic: this.opts.topic, partition, offset });
    }
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets);
      if (this.generation === generation) for (const o of offsets) this.committed.set(o.partition, o.offset);
    } catch (err) {
      // A rebalance or a coordinator move: the next commit (or the new owner) takes it from here.
      this.log.info({ error: (err as Error).message }, 'offset commit failed; trying again at the next one');
    }
  }
}

export function toInRecord(topic: string, partition: number, m: KafkaMessage): InRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value ?? Buffer.alloc(0),
    headers: headersToStrings(m.headers),
  };
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}
