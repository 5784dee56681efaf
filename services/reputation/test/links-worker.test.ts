/**
 * The reputation stage's parsing runs in a worker: the same findings as in process, and a parse
 * over its budget fails the check (the stage then retries and dead-letters) instead of reading
 * as "no links".
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMeta } from '@portcullis/contract/testing';
import { recordBudget } from '@portcullis/bus';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { BudgetExceededError, WorkerPool } from '@portcullis/workers';
import { LINKS_TASK, workerLinkReader } from '../src/index.js';
import { messageLinks } from '../src/message-links.js';
import { obfuscatedMessage } from '../src/testing.js';

const newPool = (registry = createRegistry()) =>
  new WorkerPool({ name: 'reputation', module: LINKS_TASK, size: 1, maxQueued: 8, registry, logger: createLogger({ level: 'silent', service: 'test' }) });
const pool = newPool();
after(() => pool.close());
const links = workerLinkReader(pool);
const ours = new Set(['example.test']);
const record = { meta: sampleMeta(), raw: obfuscatedMessage() };

test('the worker finds what the same code finds in process', async () => {
  const inWorker = await recordBudget('reputation', 30_000, (b) => links(record, ours, 500, b));
  const inProcess = await messageLinks(record.raw, record.meta.envelope, ours, 500);
  assert.deepEqual(inWorker, inProcess);
  assert.ok(inWorker.found.domains.length > 10);
});

test('over its budget the parse fails with BudgetExceededError, never an empty result; the pool recovers', async () => {
  const registry = createRegistry();
  const fresh = newPool(registry);
  const read = workerLinkReader(fresh);
  try {
    // 5 ms: less than a new worker needs to load mailparser, so the task is terminated mid-way.
    await assert.rejects(
      recordBudget('reputation', 5, (b) => read(record, ours, 500, b)),
      BudgetExceededError,
    );
    assert.match(await registry.metrics(), /portcullis_worker_kills_total\{pool="reputation",reason="budget"\} 1/);
    const again = await recordBudget('reputation', 30_000, (b) => read(record, ours, 500, b));
    assert.ok(again.found.domains.length > 10);
  } finally {
    await fresh.close();
  }
});
