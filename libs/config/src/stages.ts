import { z } from 'zod';

/**
 * A check of the operator's own (or a test's) run by a stage beside ours: a module whose default
 * export takes { meta, raw } and returns CheckResult[] (or a promise of them). It runs under the
 * same budget as the stage's own work: in a worker (thread: worker) or on the stage's main thread
 * (thread: main, for a check that only waits on I/O).
 */
const ExtraCheck = z.strictObject({
  stage: z.enum(['auth', 'reputation', 'content']),
  /** Absolute path (or file: URL) of an ES module. */
  module: z.string().min(1),
  thread: z.enum(['worker', 'main']).default('worker'),
});

export const Stages = z.strictObject({
  /** Records handled at once per service process. */
  concurrency: z.number().int().min(1).max(1000).default(32),
  /**
   * The whole processing of one record by auth, reputation or content (parse, checks, look-ups).
   * Past it the record's parsing worker is terminated (or its pending I/O abandoned) and the
   * attempt counts; it must be longer than the largest normal scan and than every engine's
   * timeoutMs (a slow engine is a dependency failure, answered by its own policy).
   */
  budgetMs: z.number().int().min(100).max(600_000).default(60_000),
  /** Attempts over budget before the record is answered tempfail and sent to the dead-letter topic. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Parsing workers (threads) per stage and process. */
  workers: z.number().int().min(1).max(64).default(2),
  /** Parsing tasks waiting for a worker at most, per stage and process; one more is retried later. */
  workerQueue: z.number().int().min(1).max(10_000).default(256),
  /** Heap limit of each parsing worker (resourceLimits): one message cannot take all the memory. */
  workerMaxHeapMb: z.number().int().min(32).max(16_384).default(256),
  extraChecks: z.array(ExtraCheck).default([]),
});

export type StagesConfig = z.infer<typeof Stages>;
