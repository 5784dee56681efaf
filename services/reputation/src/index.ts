import { Topics } from '@portcullis/contract';
import { runStage, type Bus, type StageRunDeps, type Subscription } from '@portcullis/bus';
import { stagePool, type WorkerPool } from '@portcullis/workers';
import type { Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import { lookupMetrics } from '@portcullis/dnsbl';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import { checkReputation, type CheckDeps } from './reputation-check.js';
import { LocalLists } from './local-lists.js';
import { SenderHistory } from './sender-history.js';
import { startHistoryRecorder } from './history-recorder.js';
import { LINKS_TASK, workerLinkReader } from './links-reader.js';

export interface ReputationDeps extends StageRunDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  dns: DnsResolver;
  logger: Logger;
  registry: Registry;
}

export { checkReputation, LocalLists, SenderHistory, workerLinkReader, LINKS_TASK };
export type { CheckDeps };

/** The stage's parsing pool (stages.workers threads running links-task). */
export function reputationPool(deps: Pick<ReputationDeps, 'config' | 'registry' | 'logger'>): WorkerPool {
  return stagePool('reputation', LINKS_TASK, deps.config.stages, deps);
}

export function checkDepsOf(deps: Pick<ReputationDeps, 'config' | 'state' | 'dns' | 'registry'>, pool: WorkerPool): CheckDeps {
  const r = deps.config.reputation;
  return {
    links: workerLinkReader(pool),
    dns: deps.dns,
    metrics: lookupMetrics(deps.registry),
    config: r,
    ours: new Set(deps.config.domains.map((d) => d.name)),
    local: new LocalLists(r),
    history: r.history.enabled ? new SenderHistory(deps.state, r.history) : null,
  };
}

/**
 * The reputation stage: URIBL/DBL look-ups of the message's domains, allow and block lists, and
 * sender history, added to the record's results. A second consumer (the history recorder) reads
 * the decided topic to learn each verdict.
 */
export async function startReputation(deps: ReputationDeps): Promise<Subscription> {
  const pool = reputationPool(deps);
  const check = checkDepsOf(deps, pool);
  const stage = await runStage(
    deps.bus,
    {
      name: 'reputation',
      group: 'portcullis-reputation',
      from: Topics.authChecked,
      concurrency: deps.config.stages.concurrency,
      budgeted: true,
      process: async (record, _span, budget) => {
        const results = await checkReputation(check, record, budget);
        const meta = { ...record.meta, results: [...record.meta.results, ...results] };
        return { outputs: [{ topic: Topics.reputationChecked, record: { meta, raw: record.raw } }] };
      },
    },
    deps,
  );
  const recorder = check.history ? await startHistoryRecorder({ ...deps, history: check.history, concurrency: deps.config.stages.concurrency }) : null;
  return {
    stop: async () => {
      await Promise.all([stage.stop(), recorder?.stop()]);
      await pool.close();
    },
  };
}
