import { dueIn, type Bus, type ConsumeOptions, type InRecord, type OutRecord, type Subscription, type TopicSpec } from './bus.js';
import { backoffMs, sleep } from './backoff.js';

interface Waiter {
  resolve: () => void;
}

/** A consumer group's view of a topic: its own queue of records not yet done. */
class GroupQueue {
  readonly records: InRecord[] = [];
  readonly notify = new Set<() => void>();
  inFlight = 0;
  push(r: InRecord) {
    this.records.push(r);
    for (const n of this.notify) n();
  }
}

class MemoryTopic {
  nextOffset = 0n;
  readonly groups = new Map<string, GroupQueue>();
  /** Records published before any group subscribed; handed to the first group. */
  readonly unclaimed: InRecord[] = [];
  readonly spaceWaiters: Waiter[] = [];
  /** For a fetchable topic: its most recent records by offset, bounded like the topic. */
  retained: Map<string, InRecord> | null = null;
  constructor(readonly name: string, public capacity: number) {}

  /** Records held for the slowest group (or unclaimed). */
  backlog(): number {
    let max = this.unclaimed.length;
    for (const g of this.groups.values()) max = Math.max(max, g.records.length + g.inFlight);
    return max;
  }

  wakeWriters() {
    while (this.spaceWaiters.length && this.backlog() < this.capacity) this.spaceWaiters.shift()!.resolve();
  }
}

/**
 * The in-process bus of embedded mode. Same contract as Kafka, except that it
 * is not durable: a record lives in this process's memory until every group
 * has handled it. Each topic is bounded; publish waits for room (back-pressure
 * reaches the SMTP client as a slower DATA reply, never as a lost message).
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, MemoryTopic>();
  private closed = false;

  constructor(private readonly opts: { maxRecordsPerTopic: number }) {}

  private topic(name: string): MemoryTopic {
    let t = this.topics.get(name);
    if (!t) {
      t = new MemoryTopic(name, this.opts.maxRecordsPerTopic);
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
      if (spec.selfFed) t.capacity = Number.POSITIVE_INFINITY;
      if (spec.fetchable) t.retained ??= new Map();
    }
  }

  async publish(topicName: string, records: OutRecord[]): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    const topic = this.topic(topicName);
    for (const rec of records) {
      while (topic.backlog() >= topic.capacity) {
        await new Promise<void>((resolve) => topic.spaceWaiters.push({ resolve }));
        if (this.closed) throw new Error('bus is closed');
      }
      const inRec: InRecord = {
        topic: topicName,
        partition: 0,
        offset: String(topic.nextOffset++),
        key: rec.key,
        value: rec.value,
        headers: { ...(rec.headers ?? {}) },
      };
      if (topic.retained) {
        topic.retained.set(inRec.offset, inRec);
        if (topic.retained.size > this.opts.maxRecordsPerTopic) topic.retained.delete(topic.retained.keys().next().value as string);
      }
      if (topic.groups.size === 0) topic.unclaimed.push(inRec);
      for (const g of topic.groups.values()) g.push(inRec);
    }
  }

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const topic = this.topic(opts.topic);
    if (topic.groups.has(opts.group)) throw new Error(`group ${opts.group} already consumes ${opts.topic}`);
    const queue = new GroupQueue();
    topic.groups.set(opts.group, queue);
    for (const r of topic.unclaimed.splice(0)) queue.records.push(r);

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
        topic.unclaimed.push(...queue.records.splice(0));
      },
    };
  }

  private async work(topic: MemoryTopic, queue: GroupQueue, opts: ConsumeOptions, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const rec = queue.records.shift();
      if (!rec) {
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
      try {
        await sleep(dueIn(rec), signal);
        if (signal.aborted) {
          queue.records.unshift(rec);
          continue;
        }
        for (let attempt = 1; ; attempt++) {
          try {
            await opts.handle(rec);
            break;
          } catch {
            if (signal.aborted) {
              queue.records.unshift(rec);
              break;
            }
            await sleep(backoffMs(attempt), signal);
            if (signal.aborted) {
              queue.records.unshift(rec);
              break;
            }
          }
        }
      } finally {
        queue.inFlight--;
        topic.wakeWriters();
      }
    }
  }

  async fetch(topicName: string, partition: number, offset: string): Promise<InRecord | null> {
    const rec = partition === 0 ? this.topics.get(topicName)?.retained?.get(offset) : undefined;
    return rec ? { ...rec, headers: { ...rec.headers } } : null;
  }

  unhealthy(): string | null {
    return this.closed ? 'bus closed' : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.topics.values()) for (const w of t.spaceWaiters.splice(0)) w.resolve();
  }
}
