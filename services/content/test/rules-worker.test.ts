/**
 * The content stage's parse and rules run in a worker: a scan over its budget fails (the stage
 * then retries and dead-letters) instead of passing unchecked, and the pool recovers.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { recordBudget } from '@portcullis/bus';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { BudgetExceededError } from '@portcullis/workers';
import { contentPool, createScanner } from '../src/scan.js';
import { buildExe, buildMessage, contentConfig, record } from './fixtures.js';

const config = contentConfig();
const registry = createRegistry();
const pool = contentPool(config, { registry, logger: createLogger({ level: 'silent', service: 'test' }) });
after(() => pool.close());
const scanner = createScanner(config, { pool });
const rec = record(buildMessage({ text: 'see attached', files: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: buildExe() }] }));

test('over its budget the scan fails with BudgetExceededError, never a pass; the pool recovers', async () => {
  // 5 ms: less than a worker needs to load mailparser, so the task is terminated mid-way.
  await assert.rejects(
    recordBudget('content', 5, (b) => scanner.scan(rec, new Date(), b)),
    BudgetExceededError,
  );
  assert.match(await registry.metrics(), /portcullis_worker_kills_total\{pool="content",reason="budget"\} 1/);
  const { results } = await recordBudget('content', 30_000, (b) => scanner.scan(rec, new Date(), b));
  assert.ok(
    results.some((r) => r.check === 'content.attachments' && r.outcome === 'fail' && /really a blocked file type|\.exe|exe/.test(r.reason)),
    JSON.stringify(results),
  );
});
