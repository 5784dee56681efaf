import { Counter, Gauge, Histogram, type Registry } from '@portcullis/telemetry';

export interface WorkerMetrics {
  duration: Histogram<'pool' | 'task' | 'outcome'>;
  kills: Counter<'pool' | 'reason'>;
  queued: Gauge<'pool'>;
  busy: Gauge<'pool'>;
}

const memo = new WeakMap<Registry, WorkerMetrics>();

/** One set per registry: every pool of a process reports under its own `pool` label. */
export function workerMetrics(registry: Registry): WorkerMetrics {
  let m = memo.get(registry);
  if (!m) {
    m = {
      duration: new Histogram({
        name: 'portcullis_worker_task_duration_seconds',
        help: 'Time a worker task took, from its start in a worker to its answer, by outcome',
        labelNames: ['pool', 'task', 'outcome'],
        buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30, 120],
        registers: [registry],
      }),
      kills: new Counter({
        name: 'portcullis_worker_kills_total',
        help: 'Workers terminated or lost while running a task: budget (terminated), memory (resourceLimits), crash',
        labelNames: ['pool', 'reason'],
        registers: [registry],
      }),
      queued: new Gauge({ name: 'portcullis_worker_queue_depth', help: 'Tasks waiting for a free worker', labelNames: ['pool'], registers: [registry] }),
      busy: new Gauge({ name: 'portcullis_worker_busy', help: 'Workers running a task', labelNames: ['pool'], registers: [registry] }),
    };
    memo.set(registry, m);
  }
  return m;
}
