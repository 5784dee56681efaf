import { describe } from 'node:test';
import { KafkaBus } from '@portcullis/bus';
import { createLogger } from '@portcullis/telemetry';
import { busContract } from './bus-contract.js';
import { KAFKA_BROKERS } from '../support/paths.js';

describe('bus contract: Kafka (real broker)', { timeout: 300_000 }, () => {
  busContract(
    async () =>
      new KafkaBus({
        brokers: KAFKA_BROKERS,
        clientId: 'portcullis-contract',
        ssl: false,
        createTopics: true,
        partitions: 1,
        replicationFactor: 1,
        sessionTimeoutMs: 6000,
        lingerMs: 2,
        maxRecordBytes: 8 * 1024 * 1024,
        logger: createLogger({ level: 'warn', service: 'contract-test' }),
      }),
  );
});
