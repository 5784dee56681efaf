import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@portcullis/contract';
import { KAFKA_BROKERS } from './paths.js';
import { waitFor } from './wait.js';

/** The record with this key on the real broker's dead-letter topic (read by a group of its own). */
export async function readDeadLetter(key: string, kafka = new Kafka({ brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }), timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: Topics.deadLetter, fromBeginning: true });
  let found: { headers: Record<string, string>; value: string } | null = null;
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() !== key) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      found = { headers, value: message.value?.toString() ?? '' };
    },
  });
  try {
    return await waitFor('the record on the dead-letter topic', () => found, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
}
