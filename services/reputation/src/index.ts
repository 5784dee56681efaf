import { Topics } from '@portcullis/contract';
import { runStage, type Bus, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import { lookupMetrics } from '@portcullis/dnsbl';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import { checkReputation, type CheckDeps } from './reputation-check.js';
import { LocalLists } from './local-lists.js';
import { SenderHistory } from './sender-history.js';
import { startHistoryRecorder } from './history-recorder.js';

export interface ReputationDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  dns: DnsResolver;
  logger: Logger;
  registry: Registry;
}

export { checkReputation, LocalLists, SenderHistory };
export type { CheckDeps };

export function checkDepsOf(deps: Pick<ReputationDeps, 'config' | 'state' | 'dns' | 'registry'>): CheckDeps {
  const r = deps.config.reputation;
  return {
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
  const check = checkDepsOf(deps);
  const stage = await runStage(
    deps.bus,
    {
      name: 'reputation',
      group: 'portcullis-reputation',
      from: Topics.authChecked,
      concurrency: deps.config.stages.concurrency,
      process: async (record) => {
        const results = await checkReputation(check, record);
        const meta = { ...record.meta, results: [...record.meta.results, ...results] };
        return { outputs: [{ topic: Topics.reputationChecked, record: { meta, raw: record.raw } }] };
      },
    },
    deps,
  );
  if (!check.history) return stage;
  const recorder = await startHistoryRecorder({ ...deps, history: check.history, concurrency: deps.config.stages.concurrency });
  return { stop: async () => void (await Promise.all([stage.stop(), recorder.stop()])) };
}
