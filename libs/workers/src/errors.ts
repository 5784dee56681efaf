/**
 * Why a task on one record did not finish: the record's own fault (it took too long, or its
 * worker died on it), as opposed to a dependency that failed. A stage counts these as attempts
 * and, after the last one, answers tempfail and dead-letters the record.
 */
export abstract class TaskFailure extends Error {
  abstract readonly reason: 'budget' | 'memory' | 'crash' | 'error';
}

/** Over its budget: the worker running it was terminated (or the stage stopped waiting for it). */
export class BudgetExceededError extends TaskFailure {
  override readonly name = 'BudgetExceededError';
  readonly reason = 'budget' as const;
  constructor(
    readonly what: string,
    readonly budgetMs: number,
  ) {
    super(`${what} did not finish within its budget of ${budgetMs} ms`);
  }
}

/** The worker died while running the task: out of memory (resourceLimits) or crashed. */
export class WorkerCrashedError extends TaskFailure {
  override readonly name = 'WorkerCrashedError';
  constructor(
    readonly reason: 'memory' | 'crash',
    detail: string,
  ) {
    super(reason === 'memory' ? `the worker ran out of memory (${detail})` : `the worker died (${detail})`);
  }
}

/** The task threw inside its worker (the worker goes on serving). */
export class TaskThrewError extends TaskFailure {
  override readonly name = 'TaskThrewError';
  readonly reason = 'error' as const;
}

/** Every place in the pool's queue is taken: a temporary condition, the caller tries again later. */
export class PoolBusyError extends Error {
  override readonly name = 'PoolBusyError';
}
