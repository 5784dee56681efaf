import { describe } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '@portcullis/bus';
import { busContract } from './bus-contract.js';

describe('bus contract: in-process bus (kept topics spooled to files)', () => {
  busContract(async () => new MemoryBus({ maxRecordsPerTopic: 1000, spoolDir: mkdtempSync(join(tmpdir(), 'portcullis-spool-')) }), {
    notBeforeHoldsPartition: false,
  });
});
