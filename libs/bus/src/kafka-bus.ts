import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Consumer, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { Gauge, Histogram, type Logger, type Registry } from '@portcullis/telemetry';
import { type Bus, type ConsumeOptions, type InRecord, type KeptRecord, type OutRecord, type PartitionOffsets, type RangeQuery, type Subscription, type TopicSpec } from './bus.js';
import { BatchingProducer } from './kafka-producer.js';
import { sleep } from './backoff.js';
import { ConsumerFlow, toInRecord } from './kafka-consumer-flow.js';
import { InFlightRoom } from './in-flight-room.js';
import { finalTopicError } from './topic-errors.js';
import { startBrokerProbe, type BrokerProbe } from './broker-probe.js';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  createTopics: boolean;
  partitions: number;
  replicationFactor: number;
  sessionTimeoutMs: number;
  lingerMs: number;
  /** Largest record any topic carries; consumer fetch sizes follow from it. */
  maxRecordBytes: number;
  logger: Logger;
  /** Where produce latency and consumer lag are reported. */
  registry?: Registry;
}

const MiB = 1024 * 1024;

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly producer;
  private readonly batcher: BatchingProducer;
  private readonly consumers = new Set<Consumer>();
  private readonly consumerProblems = new Map<string, string>();
  private connected: Promise<void> | null = null;
  private problem: string | null = 'not connected';
  /** Null while the brokers answer a metadata request, else why not (the producer and consumers notice late). */
  private probeProblem: string | null = null;
  private probe: BrokerProbe | null = null;
  private readonly kafkaConfig: KafkaConfig;
  private readonly produceSeconds: Histogram<'topic'> | null;
  private readonly lag: Gauge<'topic' | 'group' | 'partition'> | null;
  private readonly inFlight: Gauge<'topic' | 'group'> | null;

  constructor(private readonly opts: KafkaBusOptions) {
    const log = opts.logger.child({ component: 'kafka' });
    const registers = opts.registry ? [opts.registry] : [];
    this.produceSeconds = opts.registry
      ? new Histogram({
          name: 'portcullis_kafka_produce_seconds',
          help: 'Time until a publish was acknowledged by all in-sync replicas',
          labelNames: ['topic'],
          buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
          registers,
        })
      : null;
    this.lag = opts.registry
      ? new Gauge({
          name: 'portcullis_kafka_consumer_lag',
          help: 'Records of the partition not yet finished (from the lowest still in hand to its end as of the last fetch); 0 once caught up',
          labelNames: ['topic', 'group', 'partition'],
          registers,
        })
      : null;
    this.inFlight = opts.registry
      ? new Gauge({
          name: 'portcullis_kafka_consumer_in_flight',
          help: 'Records handed to handlers and not yet finished, per consumer',
          labelNames: ['topic', 'group'],
          registers,
        })
      : null;
    const config: KafkaConfig = {
      clientId: opts.clientId,
      brokers: opts.brokers,
      ssl: opts.ssl,
      connectionTimeout: 3000,
      requestTimeout: 30000,
      logLevel: logLevel.WARN,
      // kafkajs logs connection trouble as errors over and over; one warning line each is enough.
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        const level = entry.level <= logLevel.ERROR ? 'warn' : 'info';
        log[level]({ kafkaLogger: entry.namespace, broker: rest.broker, error: rest.error }, message);
      },
    };
    if (opts.sasl) config.sasl = { ...opts.sasl } as SASLOptions;
    this.kafkaConfig = config;
    this.kafka = new Kafka(config);
    // Idempotence keeps kafkajs's own retries from writing a record twice. Retries are finite so
    // that a dead broker fails the send instead of holding it (and the edge's memory) forever.
    this.producer = this.kafka.producer({
      // Named, not defaulted: kafkajs warns at start when it has to pick (its v2 default is this one,
      // the Java client's murmur2, so records keyed by message id land where they always did).
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 6, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => (this.problem = 'producer disconnected'));
    this.producer.on(this.producer.events.CONNECT, () => (this.problem = null));
    this.batcher = new BatchingProducer(this.producer, {
      lingerMs: opts.lingerMs,
      maxBatchBytes: Math.max(8 * MiB, opts.maxRecordBytes),
      maxQueuedBytes: Math.max(256 * MiB, 4 * opts.maxRecordBytes),
      timeoutMs: 30000,
    });
  }

  private connect(): Promise<void> {
    this.probe ??= startBrokerProbe(this.opts, this.kafkaConfig, (problem) => (this.probeProblem = problem));
    this.connected ??= this.producer.connect().catch((err) => {
      this.connected = null;
      throw err;
    });
    return this.connected;
  }

  async listTopics(): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    await this.connect();
    if (!this.opts.createTopics) return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) return;
      // Replicas starting together race to create the topics; losing the race is fine.
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: this.opts.partitions,
            replicationFactor: this.opts.replicationFactor,
            configEntries: [
              { name: 'max.message.bytes', value: String(t.maxRecordBytes) },
              ...(t.retentionMs ? [{ name: 'retention.ms', value: String(t.retentionMs) }] : []),
              // Never lose an acknowledged record to an unclean leader election.
              { name: 'unclean.leader.election.enable', value: 'false' },
              { name: 'min.insync.replicas', value: String(Math.min(2, this.opts.replicationFactor)) },
            ],
          })),
        })
        .catch(async (err: Error) => {
          const now = new Set(await admin.listTopics());
          if (!missing.every((t) => now.has(t.name))) throw err;
        });
    } catch (err) {
      // A refusal that will not change stops the start; anything else is waited out by the caller
      // (and costs no question to a cluster that may not be there).
      const { replicationFactor } = this.opts;
      if (!finalTopicError(err, { replicationFactor, brokers: null })) throw err;
      const brokers = await admin.describeCluster().then(
        (c) => c.brokers.length,
        () => null,
      );
      throw finalTopicError(err, { replicationFactor, brokers })!;
    } finally {
      await admin.disconnect();
    }
  }

  async publish(topic: string, records: OutRecord[]): Promise<void> {
    await this.connect();
    const stop = this.produceSeconds?.startTimer({ topic });
    await this.batcher.send(
      topic,
      records.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })),
    );
    stop?.();
  }

  async consume(opts: ConsumeOptions): Promise<Subscription> {
    const log = this.opts.logger.child({ component: 'consumer', topic: opts.topic, group: opts.group });
    let running = true;
    let current: Consumer | null = null;
    let flow: ConsumerFlow | null = null;
    const problemKey = `${opts.group}/${opts.topic}`;
    // One bound on records in hand for the subscription, across consumers rebuilt after a crash
    // (the records of a crashed one may still be in their handlers).
    const room = new InFlightRoom(opts.concurrency, Math.max(64 * MiB, 2 * this.opts.maxRecordBytes));
    // kafkajs gives up for good on errors it deems non-retriable (e.g. no group
    // coordinator while the broker restarts). A gateway must not: rebuild the
    // consumer after a pause, for as long as the service runs.
    const launch = async (): Promise<void> => {
      const consumer = this.newConsumer(opts);
      const mine = new ConsumerFlow(consumer, opts, room, log, () => running, this.lag, this.inFlight);
      consumer.on(consumer.events.CRASH, (e) => {
        log.error({ error: e.payload.error?.message, restart: e.payload.restart }, 'consumer crashed');
        if (e.payload.restart || !running) return;
        mine.close();
        this.consumerProblems.set(problemKey, `consumer for ${opts.topic} restarting`);
        this.consumers.delete(consumer);
        setTimeout(() => void relaunch(), 2000).unref();
      });
      consumer.on(consumer.events.GROUP_JOIN, () => this.consumerProblems.delete(problemKey));
      flow?.close();
      current = consumer;
      flow = mine;
      this.consumers.add(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      await mine.run();
    };
    const relaunch = async (): Promise<void> => {
      for (let attempt = 1; running; attempt++) {
        try {
          await launch();
          log.warn('consumer rebuilt after a crash');
          return;
        } catch (err) {
          log.warn({ attempt, error: (err as Error).message }, 'consumer rebuild failed, trying again');
          flow?.close();
          await current?.disconnect().catch(() => undefined);
          await sleep(Math.min(10_000, 1000 * attempt));
        }
      }
    };
    await launch();
    return {
      stop: async () => {
        running = false;
        this.consumerProblems.delete(problemKey);
        if (current) {
          await flow?.stop();
          await current.disconnect();
          this.consumers.delete(current);
        }
      },
    };
  }

  private newConsumer(opts: ConsumeOptions): Consumer {
    const fetchBytes = Math.max(16 * MiB, this.opts.maxRecordBytes + MiB);
    return this.kafka.consumer({
      groupId: opts.group,
      sessionTimeout: this.opts.sessionTimeoutMs,
      heartbeatInterval: Math.max(1000, Math.floor(this.opts.sessionTimeoutMs / 10)),
      rebalanceTimeout: 60000,
      maxBytesPerPartition: fetchBytes,
      maxBytes: fetchBytes,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
    });
  }

  async fetch(topic: string, partition: number, offset: string, timeoutMs = 20_000): Promise<InRecord | null> {
    if (!/^\d+$/.test(offset)) return null;
    const [rec] = await this.read(topic, { partition, from: offset, limit: 1, timeoutMs });
    if (!rec || rec.offset !== offset) return null;
    const { size: _size, timestamp: _timestamp, ...plain } = rec;
    return plain;
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
    } finally {
      await admin.disconnect();
    }
  }

  async read(topic: string, q: RangeQuery): Promise<KeptRecord[]> {
    if (!/^\d+$/.test(q.from) || q.limit < 1) return [];
    const bounds = (await this.offsets(topic)).find((p) => p.partition === q.partition);
    if (!bounds) return [];
    const from = BigInt(q.from) < BigInt(bounds.low) ? BigInt(bounds.low) : BigInt(q.from);
    const high = BigInt(bounds.high);
    const end = from + BigInt(q.limit) < high ? from + BigInt(q.limit) : high; // exclusive
    if (from >= end) return [];
    // kafkajs reads only through a consumer group: a throw-away group that commits nothing. Its
    // other partitions start at their end (nothing committed, not fromBeginning), so only the one
    // partition asked for is read, from the offset asked for.
    const consumer = this.kafka.consumer({
      groupId: `portcullis-read-${randomUUID()}`,
      sessionTimeout: this.opts.sessionTimeoutMs,
      maxBytesPerPartition: Math.max(16 * MiB, this.opts.maxRecordBytes + MiB),
      allowAutoTopicCreation: false,
    });
    const out: KeptRecord[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      let resolve!: () => void;
      const finished = new Promise<void>((r) => (resolve = r));
      timer = setTimeout(resolve, q.timeoutMs ?? 20_000);
      // run() resolves once the consumer is running (not when it stops); seek needs that.
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          // A batch wholly past the stretch may come from before the seek took effect: not ours.
          if (batch.partition !== q.partition || batch.messages.length === 0 || BigInt(batch.messages[0]!.offset) >= end) return;
          for (const m of batch.messages) {
            const at = BigInt(m.offset);
            if (at < from || at >= end || out.some((r) => r.offset === m.offset)) continue;
            const rec = toInRecord(topic, q.partition, m);
            out.push({ ...rec, value: q.headersOnly ? Buffer.alloc(0) : rec.value, size: rec.value.length, timestamp: new Date(Number(m.timestamp)).toISOString() });
          }
          // Offsets may have gaps (transaction markers): the batch reaching the end is what counts.
          if (BigInt(batch.lastOffset()) >= end - 1n) resolve();
        },
      });
      consumer.seek({ topic, partition: q.partition, offset: String(from) });
      await finished;
      return out.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
    }
  }

  unhealthy(): string | null {
    return this.probeProblem ?? this.problem ?? this.consumerProblems.values().next().value ?? null;
  }

  async close(): Promise<void> {
    await this.probe?.stop();
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    await this.batcher.drain();
    this.batcher.failQueued('bus closed');
    await this.producer.disconnect();
  }
}
