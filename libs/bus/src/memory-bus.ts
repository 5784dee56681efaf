import { Gauge, type Registry } from '@portcullis/telemetry';
import {
  NOT_BEFORE_HEADER,
  type Bus,
  type ConsumeOptions,
  type InRecord,
  type KeptRecord,
  type OutRecord,
  type PartitionOffsets,
  type RangeQuery,
  type Subscription,
  type TopicSpec,
} from './bus.js';
import { backoffMs, sleep } from './backoff.js';
import { FileSpool, MemorySpool, type Spool } from './spool.js';

export interface MemoryBusOptions {
  /** Records a pipeline topic holds (queued and in hand) before publish waits. */
  maxRecordsPerTopic: number;
  /**
   * Octets a pipeline topic holds before publish waits (a record larger than this still goes
   * through alone), and octets of kept topics' records loaded for their handlers at once (all
   * kept topics together).
   */
  maxBytesPerTopic?: number;
  /** Where kept topics (fetchable, selfFed) keep their records; without it, in a map (unit tests). */
  spoolDir?: string;
  /** Where the octets held in memory and in the spool are reported. */
  registry?: Registry;
  /** How often records of kept topics past their retention are removed. */
  sweepIntervalMs?: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_MAX_BYTES_PER_TOPIC = 64 * MiB;

/**
 * One record of a topic as the bus tracks it. A pipeline topic's slot holds the record; a kept
 * topic's slot is only an index entry, the record is in the spool until a handler needs it.
 */
interface Slot {
  offset: bigint;
  bytes: number;
  at: number;
  notBefore: number;
  rec?: InRecord;
  /** Groups that have it in their queue and have not finished it. */
  pending: number;
}

interface Waiter {
  resolve: () => void;
}

/** A consumer group's view of a topic: its own queue of records not yet done. */
class GroupQueue {
  readonly records: Slot[] = [];
  readonly notify = new Set<() => void>();
  inFlight = 0;
  /** Octets of the records queued or in hand. */
  bytes = 0;
  push(s: Slot) {
    this.records.push(s);
    this.bytes += s.bytes;
    s.pending++;
    for (const n of this.notify) n();
  }
}

class MemoryTopic {
  nextOffset = 0n;
  readonly groups = new Map<string, GroupQueue>();
  /** Records published before any group subscribed; handed to the first group. */
  unclaimed: Slot[] = [];
  unclaimedBytes = 0;
  readonly spaceWaiters: Waiter[] = [];
  /** Kept topics: records live in the spool, this indexes every one that is there. */
  spooled = false;
  /** Fetchable: kept for retentionMs after being handled, else removed once every group handled it. */
  kept = false;
  retentionMs = Number.POSITIVE_INFINITY;
  readonly index = new Map<bigint, Slot>();
  /** Octets of this topic's spooled records loaded for handlers right now. */
  loaded = 0;
  private opened: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  /** Records and octets held for the slowest group (or unclaimed). */
  backlog(): { records: number; bytes: number } {
    let records = this.unclaimed.length;
    let bytes = this.unclaimedBytes;
    for (const g of this.groups.values()) {
      records = Math.max(records, g.records.length + g.inFlight);
      bytes = Math.max(bytes, g.bytes);
    }
    return { records, bytes };
  }

  /** A kept topic takes every record (they are in files); a pipeline topic while under both bounds. */
  hasRoom(bytes: number): boolean {
    if (this.spooled) return true;
    const held = this.backlog();
    return held.records < this.capacity && (held.bytes === 0 || held.bytes + bytes <= this.maxBytes);
  }

  /** Octets of this topic's records in process memory. */
  heldBytes(): number {
    return this.spooled ? this.loaded : this.backlog().bytes;
  }

  wakeWriters() {
    for (const w of this.spaceWaiters.splice(0)) w.resolve();
  }

  open(spool: Spool): Promise<void> {
    this.opened ??= (async () => {
      // Records left by the previous run: every group has yet to see them (no positions survive).
      for (const e of await spool.open(this.name)) {
        const slot: Slot = { offset: e.offset, bytes: e.bytes, at: e.at, notBefore: e.notBefore, pending: 0 };
        this.index.set(e.offset, slot);
        this.unclaimed.push(slot);
        this.unclaimedBytes += slot.bytes;
        if (e.offset >= this.nextOffset) this.nextOffset = e.offset + 1n;
      }
      this.spooled = true;
    })();
    return this.opened;
  }
}

/**
 * Octets of kept records loaded from the spool for handlers, shared by every kept topic: one
 * bound for all of them, not one each (a record larger than the bound still goes, alone).
 */
class LoadBudget {
  private loaded = 0;
  private readonly waiters: Waiter[] = [];
  constructor(private readonly maxBytes: number) {}

  /** Waits for room; false when the subscription stopped meanwhile. */
  async reserve(bytes: number, signal: AbortSignal): Promise<boolean> {
    while (this.loaded > 0 && this.loaded + bytes > this.maxBytes) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push({ resolve: done });
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.loaded += bytes;
    return true;
  }

  release(bytes: number) {
    this.loaded -= bytes;
    for (const w of this.waiters.splice(0)) w.resolve();
  }
}

/**
 * The in-process bus of embedded mode. Same contract as Kafka, except that
 * pipeline topics are not durable: such a record lives in this process's
 * memory until every group has handled it, and each pipeline topic is bounded
 * in records and octets; publish waits for room (back-pressure reaches the
 * SMTP client as a slower DATA reply, never as a lost message).
 *
 * Kept topics (fetchable: quarantine, failed, dead-letter; selfFed: retries)
 * grow with what senders send and must lose nothing, so their records are in
 * the spool (files under spoolDir, fsync'd before publish resolves) and memory
 * holds only an index entry per record. They survive a restart: the spool is
 * read back at start and every record is handed to the topic's groups again.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly spool: Spool;
  private readonly maxBytes: number;
  private readonly loads: LoadBudget;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: MemoryBusOptions) {
    this.spool = opts.spoolDir ? new FileSpool(opts.spoolDir) : new MemorySpool();
    this.maxBytes = opts.maxBytesPerTopic ?? DEFAULT_MAX_BYTES_PER_TOPIC;
    this.loads = new LoadBudget(this.maxBytes);
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
    if (opts.registry) this.registerMetrics(opts.registry);
  }

  private registerMetrics(registry: Registry) {
    const held = () => [...this.topics.values()];
    new Gauge({
      name: 'portcullis_bus_memory_bytes',
      help: 'Octets of records the in-process bus holds in process memory (queued, in hand, loaded from the spool)',
      registers: [registry],
      collect() {
        this.set(held().reduce((sum, t) => sum + t.heldBytes(), 0));
      },
    });
    new Gauge({
      name: 'portcullis_bus_spool_bytes',
      help: 'Octets of records the in-process bus keeps in its spool files, per topic',
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        for (const t of held())
          if (t.spooled)
            this.set(
              { topic: t.name },
              [...t.index.values()].reduce((sum, s) => sum + s.bytes, 0),
            );
      },
    });
  }

  private topic(name: string): MemoryTopic {
    let t = this.topics.get(name);
    if (!t) {
      t = new MemoryTopic(name, this.opts.maxRecordsPerTopic, this.maxBytes);
      this.topics.set(name, t);
    }
    return t;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    for (const spec of topics) {
      const t = this.topic(spec.name);
      if (!spec.selfFed && !spec.fetchable) continue;
      t.kept ||= Boolean(spec.fetchable);
      if (spec.fetchable && spec.retentionMs) t.retentionMs = spec.retentionMs;
      await t.open(this.spool);
    }
  }

  async publish(topicName: string, records: OutRecord[]): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    const topic = this.topic(topicName);
    for (const rec of records) {
      while (!topic.hasRoom(rec.value.length)) {
        await new Promise<void>((resolve) => topic.spaceWaiters.push({ resolve }));
        if (this.closed) throw new Error('bus is closed');
      }
      const offset = topic.nextOffset++;
      const headers = { ...(rec.headers ?? {}) };
      const slot: Slot = { offset, bytes: rec.value.length, at: Date.now(), notBefore: Number(headers[NOT_BEFORE_HEADER]) || 0, pending: 0 };
      if (topic.spooled) {
        await this.spool.write(topicName, offset, { key: rec.key, value: rec.value, headers, at: slot.at });
        topic.index.set(offset, slot);
      } else {
        slot.rec = { topic: topicName, partition: 0, offset: String(offset), key: rec.key, value: rec.value, headers };
      }
      if (topic.groups.size === 0) {
        topic.unclaimed.push(slot);
        topic.unclaimedBytes += slot.bytes;
      }
      for (const g of topic.groups.values()) g.push(slot);
    }
  }

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const topic = this.topic(opts.topic);
    if (topic.groups.has(opts.group)) throw new Error(`group ${opts.group} already consumes ${opts.topic}`);
    const queue = new GroupQueue();
    topic.groups.set(opts.group, queue);
    for (const s of topic.unclaimed.splice(0)) queue.push(s);
    topic.unclaimedBytes = 0;

    const abort = new AbortController();
    const workers: Promise<void>[] = [];
    for (let i = 0; i < opts.concurrency; i++) workers.push(this.work(topic, queue, opts, abort.signal));
    return {
      stop: async () => {
        abort.abort();
        for (const n of queue.notify) n();
        await Promise.all(workers);
        topic.groups.delete(opts.group);
        // Records not yet handled go back to wait for the next subscriber.
        for (const s of queue.records.splice(0)) {
          s.pending--;
          topic.unclaimed.push(s);
          topic.unclaimedBytes += s.bytes;
        }
        topic.wakeWriters();
      },
    };
  }

  private async work(topic: MemoryTopic, queue: GroupQueue, opts: ConsumeOptions, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const slot = queue.records.shift();
      if (!slot) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            queue.notify.delete(wake);
            resolve();
          };
          queue.notify.add(wake);
        });
        continue;
      }
      queue.inFlight++;
      let done = false;
      try {
        done = await this.handleSlot(topic, slot, opts, signal);
      } finally {
        queue.inFlight--;
        if (done) this.finished(topic, queue, slot);
        else queue.records.unshift(slot);
        topic.wakeWriters();
      }
    }
  }

  /**
   * Hands one record to the handler until it succeeds (true) or the subscription stops (false).
   * A function of its own, not inlined in work(): a suspended async function keeps the values of
   * its finished iterations in its frame, and a worker waiting for the next record then held the
   * last one it handled (32 workers × 18 MiB per group, measured in a heap snapshot).
   */
  private async handleSlot(topic: MemoryTopic, slot: Slot, opts: ConsumeOptions, signal: AbortSignal): Promise<boolean> {
    let loaded = 0;
    try {
      await sleep(Math.max(0, slot.notBefore - Date.now()), signal);
      // A kept record is read from the spool only now, within the byte budget of all kept topics.
      if (!slot.rec && !signal.aborted && (await this.loads.reserve(slot.bytes, signal))) {
        loaded = slot.bytes;
        topic.loaded += loaded;
      }
      for (let attempt = 1; !signal.aborted; attempt++) {
        try {
          const rec = slot.rec ?? (await this.load(topic, slot));
          if (rec) await opts.handle(rec);
          return true; // a kept record that is gone has reached the end of its retention
        } catch {
          await sleep(backoffMs(attempt), signal);
        }
      }
      return false;
    } finally {
      if (loaded) {
        topic.loaded -= loaded;
        this.loads.release(loaded);
      }
    }
  }

  private finished(topic: MemoryTopic, queue: GroupQueue, slot: Slot) {
    queue.bytes -= slot.bytes;
    slot.pending--;
    if (slot.pending === 0) slot.rec = undefined; // every group is done with it: let it go
    // A retry record every group has handled is read by nobody again: its file goes now.
    if (topic.spooled && !topic.kept && slot.pending === 0 && topic.groups.size > 0) {
      topic.index.delete(slot.offset);
      this.spool.remove(topic.name, slot.offset).catch(() => undefined); // left behind: handed over again after a restart
    }
  }

  private async load(topic: MemoryTopic, slot: Slot): Promise<InRecord | null> {
    const rec = await this.spool.read(topic.name, slot.offset);
    return rec && { topic: topic.name, partition: 0, offset: String(slot.offset), key: rec.key, value: rec.value, headers: rec.headers };
  }

  /** Removes the records of kept topics whose retention has ended, as Kafka would. */
  async sweep(now = Date.now()): Promise<void> {
    for (const t of this.topics.values()) {
      if (!t.spooled || !t.kept) continue;
      let removed = false;
      for (const [offset, slot] of t.index) {
        if (slot.at + t.retentionMs > now) continue;
        t.index.delete(offset);
        removed = true;
        await this.spool.remove(t.name, offset).catch(() => undefined);
      }
      if (removed) {
        t.unclaimed = t.unclaimed.filter((s) => t.index.has(s.offset));
        t.unclaimedBytes = t.unclaimed.reduce((sum, s) => sum + s.bytes, 0);
      }
    }
  }

  async fetch(topicName: string, partition: number, offset: string): Promise<InRecord | null> {
    const topic = this.topics.get(topicName);
    if (partition !== 0 || !topic?.spooled || !/^\d+$/.test(offset)) return null;
    const slot = topic.index.get(BigInt(offset));
    return slot ? this.load(topic, slot) : null;
  }

  async offsets(topicName: string): Promise<PartitionOffsets[]> {
    const topic = this.topics.get(topicName);
    if (!topic?.spooled) return [];
    let low = topic.nextOffset;
    for (const o of topic.index.keys()) if (o < low) low = o;
    return [{ partition: 0, low: String(low), high: String(topic.nextOffset) }];
  }

  async read(topicName: string, q: RangeQuery): Promise<KeptRecord[]> {
    const topic = this.topics.get(topicName);
    if (q.partition !== 0 || !topic?.spooled || !/^\d+$/.test(q.from)) return [];
    const from = BigInt(q.from);
    // Concurrent publishes may finish their writes out of order: the index is sorted here.
    const wanted = [...topic.index.keys()]
      .filter((o) => o >= from)
      .sort((a, b) => (a < b ? -1 : 1))
      .slice(0, Math.max(0, q.limit));
    const out: KeptRecord[] = [];
    for (const offset of wanted) {
      const slot = topic.index.get(offset);
      const rec = slot && (await this.spool.read(topicName, offset, { headersOnly: Boolean(q.headersOnly) }));
      if (!slot || !rec) continue;
      out.push({
        topic: topicName,
        partition: 0,
        offset: String(offset),
        key: rec.key,
        value: rec.value,
        headers: rec.headers,
        size: slot.bytes,
        timestamp: new Date(rec.at).toISOString(),
      });
    }
    return out;
  }

  unhealthy(): string | null {
    return this.closed ? 'bus closed' : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const t of this.topics.values()) for (const w of t.spaceWaiters.splice(0)) w.resolve();
  }
}
