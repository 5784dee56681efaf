import { BusSetupError } from './bus.js';

/** What kafkajs's errors carry that tells a final refusal from a passing one. */
interface KafkaError extends Error {
  type?: string;
  retriable?: boolean;
  topic?: string;
  errors?: unknown[];
  cause?: unknown;
}

/**
 * The broker answers a creation it will never grant with a non-retriable protocol error (kafkajs
 * gives them per topic, inside a KafkaJSAggregateError). Everything else (no connection, a timeout,
 * no controller yet) may pass: the caller waits and tries again.
 */
export function finalTopicError(err: unknown, context: { replicationFactor: number; brokers: number | null }): BusSetupError | null {
  const e = err as KafkaError;
  const refusals = (Array.isArray(e.errors) ? (e.errors as KafkaError[]) : [e]).filter(
    (x) => typeof x?.type === 'string' && x.retriable === false && x.type !== 'TOPIC_ALREADY_EXISTS',
  );
  const first = refusals[0];
  if (!first) return null;
  const topic = first.topic ? `topic ${first.topic}` : 'the topics';
  let hint = '';
  if (first.type === 'INVALID_REPLICATION_FACTOR') {
    hint = `: bus.kafka.replicationFactor is ${context.replicationFactor}${context.brokers !== null ? ` and the cluster has ${context.brokers} broker(s)` : ''}`;
  } else if (/AUTHORIZATION_FAILED$/.test(first.type!)) {
    hint = ': the broker refuses this client (ACLs: creating topics needs Create on them or on the cluster)';
  }
  const others = refusals.length > 1 ? ` (and ${refusals.length - 1} more topic(s))` : '';
  return new BusSetupError(`cannot create ${topic}: ${first.type} (${first.message})${hint}${others}`);
}
