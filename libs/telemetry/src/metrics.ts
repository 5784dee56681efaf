import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';

/** One registry per process, so embedded mode shows every service's metrics on one /metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_process_' });
  return registry;
}

export interface StageMetrics {
  processed: Counter<'stage' | 'outcome'>;
  duration: Histogram<'stage'>;
  deadLettered: Counter<'topic'>;
}

const memo = new WeakMap<Registry, StageMetrics>();

/** Metrics shared by every consuming stage, registered once per registry. */
export function stageMetrics(registry: Registry): StageMetrics {
  let m = memo.get(registry);
  if (!m) {
    m = {
      processed: new Counter({
        name: 'portcullis_stage_records_total',
        help: 'Records processed by a stage, by outcome',
        labelNames: ['stage', 'outcome'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'portcullis_stage_duration_seconds',
        help: 'Time a stage spent on one record',
        labelNames: ['stage'],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
        registers: [registry],
      }),
      deadLettered: new Counter({
        name: 'portcullis_dead_letter_total',
        help: 'Records sent to the dead-letter topic, by the topic they were read from',
        labelNames: ['topic'],
        registers: [registry],
      }),
    };
    memo.set(registry, m);
  }
  return m;
}

export { Counter, Histogram, Gauge, Registry };
