import type { Producer, TopicMessages, Message } from 'kafkajs';

interface Pending {
  topic: string;
  message: Message;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Gathers records from concurrent publishers into one produce request.
 * kafkajs sends what it is given when it is given it, so one awaited send per
 * message costs a round trip each; here records wait while a request is in
 * flight (or for lingerMs) and go out together. Only one request is in flight
 * at a time, which the idempotent producer requires for ordering anyway.
 * The queue is bounded in bytes: past the bound publishers are refused at once.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly opts: { lingerMs: number; maxBatchBytes: number; maxQueuedBytes: number; timeoutMs: number },
  ) {}

  send(topic: string, messages: Message[]): Promise<void> {
    const sizes = messages.map((m) => (m.value as Buffer | null)?.length ?? 0);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (this.queuedBytes + total > this.opts.maxQueuedBytes && this.queue.length > 0) {
      return Promise.reject(new Error(`producer queue full (${this.queuedBytes} bytes waiting)`));
    }
    const all = messages.map(
      (message, i) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ topic, message, bytes: sizes[i]!, resolve, reject });
        }),
    );
    this.queuedBytes += total;
    this.schedule();
    return Promise.all(all).then(() => undefined);
  }

  private schedule(): void {
    if (this.inFlight || this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.opts.lingerMs);
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.queue.length && (batch.length === 0 || bytes + this.queue[0]!.bytes <= this.opts.maxBatchBytes)) {
      const p = this.queue.shift()!;
      bytes += p.bytes;
      batch.push(p);
    }
    this.queuedBytes -= bytes;
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push(p.message);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.opts.timeoutMs });
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    } finally {
      this.inFlight = false;
      this.schedule();
    }
  }

  /** Fails whatever still waits (used at shutdown after the last flush). */
  failQueued(reason: string): void {
    for (const p of this.queue.splice(0)) p.reject(new Error(reason));
    this.queuedBytes = 0;
  }

  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length) {
      if (!this.inFlight) void this.flush();
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
