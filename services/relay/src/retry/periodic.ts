import type { Logger } from '@portcullis/telemetry';

export interface PeriodicJob {
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

/**
 * Runs jobs every intervalMs on the replica that isLeader() says leads (by
 * default every replica: embedded mode, or a job that is safe to run twice).
 * A failing run is logged and tried again at the next tick; runs never overlap.
 */
export function startPeriodic(jobs: PeriodicJob[], opts: { isLeader?: () => boolean | Promise<boolean>; logger: Logger }): { stop(): void } {
  const timers = jobs.map((job) => {
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      try {
        if (await (opts.isLeader ?? (() => true))()) await job.run();
      } catch (err) {
        opts.logger.warn({ job: job.name, error: (err as Error).message }, 'periodic job failed');
      } finally {
        running = false;
      }
    };
    const t = setInterval(() => void tick(), job.intervalMs);
    t.unref();
    return t;
  });
  return { stop: () => timers.forEach((t) => clearInterval(t)) };
}
