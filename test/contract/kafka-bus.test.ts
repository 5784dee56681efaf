import { describe } from 'node:test';
import { busContract } from './bus-contract.js';
import { testKafkaBus } from './kafka-test-bus.js';

describe('bus contract: Kafka (real broker)', { timeout: 300_000 }, () => {
  busContract(async () => testKafkaBus('portcullis-contract'));
});
