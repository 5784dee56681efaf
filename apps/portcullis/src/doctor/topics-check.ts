import type { Bus, TopicSpec } from '@portcullis/bus';
import { ok, wrong, type Finding } from './finding.js';

/** Every topic the services meet on exists (through the Bus, so kafkajs stays behind our interface). */
export async function checkTopics(bus: Bus, specs: TopicSpec[], timeoutMs: number): Promise<Finding> {
  if (!bus.listTopics) return wrong('kafka topics', `the ${bus.kind} bus cannot list topics`, 'run the doctor with bus.kind: kafka');
  let timer: NodeJS.Timeout | undefined;
  try {
    const existing = new Set(
      await Promise.race([bus.listTopics(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]),
    );
    const missing = specs.map((s) => s.name).filter((n) => !existing.has(n));
    if (missing.length) {
      return wrong(
        'kafka topics',
        `missing: ${missing.join(', ')}`,
        'set kafka.topics: app (the services create them), or create them with your Kafka tooling (kafka.topics: strimzi renders KafkaTopic resources)',
      );
    }
    return ok('kafka topics', `all ${specs.length} exist`);
  } catch (err) {
    return wrong('kafka topics', `cannot reach Kafka: ${(err as Error).message}`, 'check bus.kafka.brokers, the network policy and the Kafka credentials');
  } finally {
    clearTimeout(timer);
  }
}
