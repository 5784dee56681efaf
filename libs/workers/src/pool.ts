import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Logger, Registry } from '@portcullis/telemetry';
import { BudgetExceededError, PoolBusyError, TaskFailure, TaskThrewError, WorkerCrashedError } from './errors.js';
import { workerMetrics, type WorkerMetrics } from './metrics.js';
import type { TaskReply, TaskRequest } from './serve.js';

export interface PoolOptions {
  /** For metrics and logs: reputation, content, ... */
  name: string;
  /** The task module (it calls serveTasks), as a file URL or path. */
  module: URL | string;
  /** Workers at most; started when first needed and replaced when one is terminated or dies. */
  size: number;
  /** Tasks waiting for a worker at most; one more is refused with PoolBusyError. */
  maxQueued: number;
  /** resourceLimits.maxOldGenerationSizeMb of each worker: one message cannot take all the heap. */
  maxHeapMb?: number;
  /** Handed to every worker (workerData): its configuration. Structured-cloneable. */
  workerData?: unknown;
  registry: Registry;
  logger: Logger;
}

export interface RunOptions {
  /**
   * How long the task may run once a worker has started it; past it the worker is terminated.
   * A function is asked when the task starts (a record's budget left after its wait in the queue).
   */
  budgetMs: number | (() => number);
  /** Called when a worker takes the task (its wait in the queue is over). */
  onStart?: () => void;
  /** Aborting stops the task: taken out of the queue, or its worker terminated. */
  signal?: AbortSignal;
  /** Buffers moved to the worker (see transferableCopy); they are unusable here afterwards. */
  transfer?: ArrayBuffer[];
}

const budgetOf = (opts: RunOptions): number => (typeof opts.budgetMs === 'function' ? opts.budgetMs() : opts.budgetMs);

interface Job {
  id: number;
  task: string;
  input: unknown;
  opts: RunOptions;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  detach: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  started: number;
  timer: NodeJS.Timeout | undefined;
  gone: boolean;
}

/**
 * A bounded pool of worker threads running one task module. The point is that a task can be
 * stopped: a synchronous loop on the main thread cannot be interrupted by any timer, but a
 * worker can be terminated (worker.terminate() stops its JavaScript wherever it is). Over
 * budget, the worker is terminated and replaced and the call rejects with BudgetExceededError;
 * a worker that dies (out of its heap limit, a crash) rejects its call and is replaced too.
 * Callers beyond the workers wait in a bounded queue (their wait is the back-pressure).
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private readonly metrics: WorkerMetrics;
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    if (opts.size < 1) throw new Error('a worker pool needs at least one worker');
    this.metrics = workerMetrics(opts.registry);
  }

  run<T>(task: string, input: unknown, opts: RunOptions): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`worker pool ${this.opts.name} is closed`));
    if (opts.signal?.aborted) return Promise.reject(this.abortError(opts));
    if (this.queue.length >= this.opts.maxQueued) {
      return Promise.reject(new PoolBusyError(`worker pool ${this.opts.name}: ${this.queue.length} tasks already waiting`));
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = { id: this.nextId++, task, input, opts, resolve: resolve as (v: unknown) => void, reject, detach: () => {} };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = (): void => this.abort(job);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Workers running, tasks waiting (for tests and health). */
  get load(): { workers: number; busy: number; queued: number } {
    let busy = 0;
    for (const s of this.slots) if (s.job) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.fail(job, new Error(`worker pool ${this.opts.name} closed`));
    const slots = [...this.slots];
    this.slots.clear();
    for (const s of slots) {
      s.gone = true;
      clearTimeout(s.timer);
      if (s.job) this.fail(s.job, new Error(`worker pool ${this.opts.name} closed`));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.report();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const slot = this.idleSlot();
      if (!slot) break;
      this.start(slot, this.queue.shift()!);
    }
    this.report();
  }

  private idleSlot(): Slot | undefined {
    for (const s of this.slots) if (!s.job) return s;
    return this.slots.size < this.opts.size ? this.spawn() : undefined;
  }

  private spawn(): Slot {
    const worker = new Worker(this.opts.module, {
      workerData: this.opts.workerData,
      name: `portcullis-${this.opts.name}`,
      ...(this.opts.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb } } : {}),
    });
    const slot: Slot = { worker, job: null, started: 0, timer: undefined, gone: false };
    worker.on('message', (reply: TaskReply) => this.onReply(slot, reply));
    worker.on('error', (err: Error & { code?: string }) => this.lose(slot, err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash', err.message));
    worker.on('exit', (code) => this.lose(slot, 'crash', `exit code ${code}`));
    worker.unref(); // an idle worker does not keep the process alive
    this.slots.add(slot);
    return slot;
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    slot.started = performance.now();
    slot.worker.ref();
    job.opts.onStart?.();
    const budgetMs = Math.max(1, Math.floor(budgetOf(job.opts)));
    slot.timer = setTimeout(() => this.kill(slot, new BudgetExceededError(`task ${job.task} (pool ${this.opts.name})`, budgetMs)), budgetMs);
    try {
      slot.worker.postMessage({ id: job.id, task: job.task, input: job.input } satisfies TaskRequest, job.opts.transfer ?? []);
    } catch (err) {
      // Not cloneable: the caller's mistake, the worker is fine.
      this.settle(slot, 'error');
      this.fail(job, err as Error);
      this.dispatch();
    }
  }

  private onReply(slot: Slot, reply: TaskReply): void {
    const job = slot.job;
    if (!job || job.id !== reply.id || slot.gone) return;
    this.settle(slot, reply.ok ? 'ok' : 'error');
    job.detach();
    if (reply.ok) job.resolve(reply.value);
    else job.reject(new TaskThrewError(`task ${job.task} failed: ${reply.message}`));
    this.dispatch();
  }

  private settle(slot: Slot, outcome: string): void {
    clearTimeout(slot.timer);
    if (slot.job) this.metrics.duration.observe({ pool: this.opts.name, task: slot.job.task, outcome }, (performance.now() - slot.started) / 1000);
    slot.job = null;
    if (!slot.gone) slot.worker.unref();
  }

  /** Over budget or aborted: the worker is terminated (wherever its JavaScript is) and replaced. */
  private kill(slot: Slot, err: TaskFailure): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.delete(slot);
    const job = slot.job;
    this.settle(slot, err.reason);
    this.metrics.kills.inc({ pool: this.opts.name, reason: err.reason });
    this.opts.logger.warn({ pool: this.opts.name, task: job?.task, reason: err.reason }, 'worker terminated: task over its budget');
    void slot.worker.terminate();
    if (job) this.fail(job, err);
    this.dispatch();
  }

  /** The worker died on its own (heap limit, crash): its task fails, a new worker takes its place. */
  private lose(slot: Slot, reason: 'memory' | 'crash', detail: string): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.delete(slot);
    const job = slot.job;
    this.settle(slot, reason);
    this.metrics.kills.inc({ pool: this.opts.name, reason });
    this.opts.logger.warn({ pool: this.opts.name, task: job?.task, reason, detail }, 'worker lost');
    if (job) this.fail(job, new WorkerCrashedError(reason, detail));
    this.dispatch();
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.fail(job, this.abortError(job.opts));
      this.report();
      return;
    }
    for (const s of this.slots) if (s.job === job) return this.kill(s, this.abortError(job.opts));
  }

  private abortError(opts: RunOptions): TaskFailure {
    const reason: unknown = opts.signal?.reason;
    return reason instanceof TaskFailure ? reason : new BudgetExceededError(`a task of pool ${this.opts.name}`, budgetOf(opts));
  }

  private fail(job: Job, err: Error): void {
    job.detach();
    job.reject(err);
  }

  private report(): void {
    const { busy, queued } = this.load;
    this.metrics.queued.set({ pool: this.opts.name }, queued);
    this.metrics.busy.set({ pool: this.opts.name }, busy);
  }
}
