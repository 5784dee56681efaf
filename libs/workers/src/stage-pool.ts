import type { Logger, Registry } from '@portcullis/telemetry';
import { WorkerPool } from './pool.js';

/** The stages section's worker keys (stages.workers, workerQueue, workerMaxHeapMb). */
export interface StageWorkerLimits {
  workers: number;
  workerQueue: number;
  workerMaxHeapMb: number;
}

/** A stage's parsing pool, sized by the stages section of the config. */
export function stagePool(name: string, module: URL, limits: StageWorkerLimits, deps: { registry: Registry; logger: Logger }, workerData?: unknown): WorkerPool {
  return new WorkerPool({
    name,
    module,
    size: limits.workers,
    maxQueued: limits.workerQueue,
    maxHeapMb: limits.workerMaxHeapMb,
    registry: deps.registry,
    logger: deps.logger,
    workerData,
  });
}

/** The task module that runs stages.extraChecks in a worker. */
export const EXTRA_CHECK_TASK = new URL('./extra-check-task.js', import.meta.url);
