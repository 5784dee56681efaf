import { KafkaBus, MemoryBus, type Bus, type TopicSpec } from '@portcullis/bus';
import { readSecretFile, type Config } from '@portcullis/config';
import { RetryTierTopics, Topics } from '@portcullis/contract';
import { MemoryState, RedisState, type SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';

/** Room for the metadata and the headers the gateway adds, beyond the largest message. */
const RECORD_OVERHEAD = 2 * 1024 * 1024;

export function topicSpecs(config: Config): TopicSpec[] {
  const maxRecordBytes = config.smtp.maxMessageBytes + RECORD_OVERHEAD;
  const day = 24 * 3600 * 1000;
  return [
    { name: Topics.accepted, maxRecordBytes, retentionMs: 7 * day },
    { name: Topics.authChecked, maxRecordBytes, retentionMs: 7 * day },
    { name: Topics.reputationChecked, maxRecordBytes, retentionMs: 7 * day },
    { name: Topics.decided, maxRecordBytes, retentionMs: 7 * day },
    { name: Topics.retry, maxRecordBytes, retentionMs: 7 * day, selfFed: true },
    // Kept past the maximum age, so that a record waiting in a tier is never expired before it is tried.
    ...RetryTierTopics.map((name) => ({ name, maxRecordBytes, retentionMs: Math.max(7 * day, 2 * config.relay.maxAgeSeconds * 1000), selfFed: true })),
    // The quarantine's durable store: kept for the quarantine period, read back by position.
    { name: Topics.quarantine, maxRecordBytes, retentionMs: Math.round(config.quarantine.retentionDays * day), fetchable: true },
    // Kept, and read by position (the bounce stage to come; the dead-letter reader).
    { name: Topics.failed, maxRecordBytes, retentionMs: 14 * day, fetchable: true },
    { name: Topics.deadLetter, maxRecordBytes, retentionMs: 30 * day, fetchable: true },
  ];
}

export function createBus(config: Config, logger: Logger, registry?: Registry): Bus {
  if (config.bus.kind === 'memory') return new MemoryBus({ ...config.bus.memory, ...(registry ? { registry } : {}) });
  const k = config.bus.kafka!;
  return new KafkaBus({
    brokers: k.brokers,
    clientId: k.clientId,
    ssl: k.ssl,
    ...(k.sasl ? { sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: readSecretFile(k.sasl.passwordFile, 'bus.kafka.sasl.passwordFile') } } : {}),
    createTopics: k.createTopics,
    partitions: k.partitions,
    replicationFactor: k.replicationFactor,
    sessionTimeoutMs: k.sessionTimeoutMs,
    lingerMs: k.lingerMs,
    maxRecordBytes: config.smtp.maxMessageBytes + RECORD_OVERHEAD,
    logger,
    ...(registry ? { registry } : {}),
  });
}

export function createState(config: Config): SharedState {
  if (config.state.kind === 'memory') return new MemoryState({ maxEntries: 200_000 });
  const r = config.state.redis!;
  return new RedisState({
    url: r.url,
    keyPrefix: r.keyPrefix,
    ...(r.passwordFile ? { password: readSecretFile(r.passwordFile, 'state.redis.passwordFile') } : {}),
  });
}
