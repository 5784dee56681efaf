import { decidedReject, skippedFor, Topics } from '@portcullis/contract';
import { runStage, type StageDefinition, type Subscription } from '@portcullis/bus';
import { dnsOf, type ServiceDeps, type StageDeps } from '@portcullis/service';
import { stagePool, type WorkerPool } from '@portcullis/workers';
import { checkReputation, type CheckDeps } from './reputation-check.js';
import { LocalLists } from './local-lists.js';
import { SenderHistory } from './sender-history.js';
import { startHistoryRecorder } from './history-recorder.js';
import { LINKS_TASK, workerLinkReader } from './links-reader.js';
import { reputationMetrics, type ReputationMetrics } from './metrics.js';

/** The service's deps (dns: the DNS layer built from config.dns when absent). */
export type ReputationDeps = StageDeps;

export { checkReputation, LocalLists, SenderHistory, workerLinkReader, LINKS_TASK, reputationMetrics };
export type { CheckDeps, ReputationMetrics };

/** The stage's parsing pool (stages.workers threads running links-task). */
export function reputationPool(deps: Pick<ServiceDeps, 'config' | 'registry' | 'logger'>): WorkerPool {
  return stagePool('reputation', LINKS_TASK, deps.config.stages, deps);
}

export function checkDepsOf(deps: ServiceDeps, pool: WorkerPool): CheckDeps {
  const r = deps.config.reputation;
  return {
    links: workerLinkReader(pool),
    dns: dnsOf(deps),
    metrics: reputationMetrics(deps.registry).lookups,
    config: r,
    ours: new Set(deps.config.domains.map((d) => d.name)),
    local: new LocalLists(r),
    history: r.history.enabled ? new SenderHistory(deps.state, r.history) : null,
  };
}

/**
 * The reputation stage: URIBL/DBL look-ups of the message's domains, allow and block lists, and
 * sender history, added to the record's results. A record an earlier stage has already decided to
 * reject (decidedReject) is not looked up at all: one `skip` result says which result decided.
 * The pool (reputationPool) is the caller's to close.
 */
export function reputationStage(deps: ReputationDeps, pool: WorkerPool): StageDefinition {
  const check = checkDepsOf(deps, pool);
  const metrics = reputationMetrics(deps.registry);
  return {
    name: 'reputation',
    group: 'portcullis-reputation',
    from: Topics.authChecked,
    concurrency: deps.config.stages.concurrency,
    budgeted: true,
    process: async (record, _span, budget) => {
      const decided = decidedReject(record.meta.results, record.meta.envelope.auth !== null);
      if (decided) metrics.skipped.inc({ decided_by: decided.check });
      const results = decided ? [skippedFor('reputation', 'reputation.checks', decided)] : await checkReputation(check, record, budget);
      const meta = { ...record.meta, results: [...record.meta.results, ...results] };
      return { outputs: [{ topic: Topics.reputationChecked, record: { meta, raw: record.raw } }] };
    },
  };
}

/** The stage, and a second consumer (the history recorder) that reads the decided topic to learn each verdict. */
export async function startReputation(deps: ReputationDeps): Promise<Subscription> {
  const pool = reputationPool(deps);
  const stage = await runStage(deps.bus, reputationStage(deps, pool), deps);
  const history = deps.config.reputation.history;
  const recorder = history.enabled ? await startHistoryRecorder({ ...deps, history: new SenderHistory(deps.state, history), concurrency: deps.config.stages.concurrency }) : null;
  return {
    stop: async () => {
      await Promise.all([stage.stop(), recorder?.stop()]);
      await pool.close();
    },
  };
}
