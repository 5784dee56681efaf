import { describe } from 'node:test';
import { MemoryBus } from '@portcullis/bus';
import { busContract } from './bus-contract.js';

describe('bus contract: in-process bus', () => {
  busContract(async () => new MemoryBus({ maxRecordsPerTopic: 1000 }));
});
