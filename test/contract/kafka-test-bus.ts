import { KafkaBus } from '@portcullis/bus';
import { createLogger } from '@portcullis/telemetry';
import { KAFKA_BROKERS } from '../support/paths.js';

/** A KafkaBus on the test broker: one partition per topic, a short session. */
export function testKafkaBus(clientId: string): KafkaBus {
  return new KafkaBus({
    brokers: KAFKA_BROKERS,
    clientId,
    ssl: false,
    createTopics: true,
    partitions: 1,
    replicationFactor: 1,
    sessionTimeoutMs: 6000,
    lingerMs: 2,
    maxRecordBytes: 8 * 1024 * 1024,
    logger: createLogger({ level: 'warn', service: clientId }),
  });
}
