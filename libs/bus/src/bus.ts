/** A record to publish. The key decides the partition (we use the message id). */
export interface OutRecord {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

/** A record read from a topic. */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface TopicSpec {
  name: string;
  /** Largest record the topic must take, in bytes. */
  maxRecordBytes: number;
  /** How long records are kept, in milliseconds. */
  retentionMs?: number;
  /**
   * Fed by its own consumer (retries). A bound on it could deadlock (a consumer blocked on
   * publishing to its own full topic), so the in-process bus keeps its records in files (its
   * spool), not in memory, and takes every one.
   */
  selfFed?: boolean;
  /**
   * Records are kept for retentionMs whether consumed or not, and read back by position (fetch,
   * read), e.g. the quarantine and the dead-letter topic. The in-process bus keeps them in files
   * (its spool) until their retention ends; Kafka keeps them for retentionMs.
   */
  fetchable?: boolean;
}

/** Where a partition of a topic starts and ends: low is the first offset kept, high the next one written. */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** A stretch of one partition, for operator tools. */
export interface RangeQuery {
  partition: number;
  /** First offset wanted (earlier ones that are gone are skipped). */
  from: string;
  /** At most this many records. */
  limit: number;
  /** Leave the value empty (a listing that needs only headers and sizes). */
  headersOnly?: boolean;
  /** Bound on the wait (Kafka); what was read by then is returned. */
  timeoutMs?: number;
}

/** A record read by position, with what a listing shows besides its headers. */
export interface KeptRecord extends InRecord {
  /** Octets of the value (also when headersOnly left it empty). */
  size: number;
  /** When it was written (ISO 8601). */
  timestamp: string;
}

/**
 * Handles one record. Resolving means the record is done and its offset may be
 * committed: whatever it produced must already be durable. Rejecting means it
 * will be handed over again later (after a back-off), never skipped.
 */
export type RecordHandler = (record: InRecord) => Promise<void>;

/**
 * A record carrying this header (epoch milliseconds) is not handed to the
 * handler before that time; the consumer waits on it (heart-beating) rather
 * than skipping it, so order within a partition holds.
 */
export const NOT_BEFORE_HEADER = 'portcullis-not-before';

export function dueIn(rec: InRecord, now = Date.now()): number {
  const at = Number(rec.headers[NOT_BEFORE_HEADER]);
  return Number.isFinite(at) ? Math.max(0, at - now) : 0;
}

export interface ConsumeOptions {
  /** Consumer group: replicas of one service share the work of a group. */
  group: string;
  topic: string;
  /** Records handled at the same time by this process. */
  concurrency: number;
  handle: RecordHandler;
}

export interface Subscription {
  /** Stops fetching, waits for records in hand, commits what was done. */
  stop(): Promise<void>;
}

/**
 * The small interface every service uses to talk to the others. Two
 * implementations: Kafka for production, in-process memory for embedded mode.
 */
export interface Bus {
  readonly kind: 'kafka' | 'memory';
  /** Creates missing topics (a no-op where topics are managed elsewhere). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Names of the topics that exist (Kafka: the brokers' metadata); for `portcullis doctor`. */
  listTopics?(): Promise<string[]>;
  /** Resolves once every record is durably stored (Kafka: acknowledged by all in-sync replicas). */
  publish(topic: string, records: OutRecord[]): Promise<void>;
  consume(opts: ConsumeOptions): Promise<Subscription>;
  /**
   * The record at this position of a fetchable topic, or null when it is not there (any more):
   * expired, never written, or not reachable within a bounded wait. For operator actions, not for
   * the flow of mail (it costs a consumer of its own each call on Kafka).
   */
  fetch(topic: string, partition: number, offset: string): Promise<InRecord | null>;
  /** Each partition's first and next offsets of a fetchable topic (empty when the topic is unknown). */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /**
   * Up to query.limit records of one partition of a fetchable topic, in order, from query.from.
   * For operator tools (the dead-letter reader), like fetch: never for the flow of mail.
   */
  read(topic: string, query: RangeQuery): Promise<KeptRecord[]>;
  /** Null when usable, else why not (for /readyz). */
  unhealthy(): string | null;
  close(): Promise<void>;
}

export class BusTimeoutError extends Error {
  override readonly name = 'BusTimeoutError';
}

/** Publishes with an upper bound on the wait; the bus may still store the record later. */
export async function publishWithin(bus: Bus, topic: string, records: OutRecord[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusTimeoutError(`publish to ${topic} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([bus.publish(topic, records), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bus cannot be set up as configured, and waiting will not change that (a replication factor
 * above the broker count, an ACL refusing us, a config the broker rejects): start fails at once.
 */
export class BusSetupError extends Error {
  override readonly name = 'BusSetupError';
}
