import { randomUUID } from 'node:crypto';
import { Topics, type MailRecord } from '@portcullis/contract';
import { runStage, type Bus, type Subscription } from '@portcullis/bus';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import { headerFromDomain } from './header-from.js';
import { historySubjects, outcomeOf, type SenderHistory } from './sender-history.js';

export interface RecorderDeps {
  bus: Bus;
  state: SharedState;
  history: SenderHistory;
  logger: Logger;
  registry: Registry;
  concurrency: number;
}

/**
 * reputation.history-recorder: learns from the verdicts. It reads the decided topic as a consumer
 * group of its own, beside the relay, so the content stage (which decides) needs no hook and no
 * service imports another. A record read twice (at-least-once) is counted once: each message id
 * is claimed before it is counted.
 */
export async function recordOne(deps: Pick<RecorderDeps, 'state' | 'history'>, record: MailRecord): Promise<boolean> {
  const verdict = record.meta.verdict;
  const outcome = verdict ? outcomeOf(verdict.action) : null;
  if (!outcome) return false;
  const token = randomUUID();
  if ((await deps.state.claim(`history:seen:${record.meta.id}`, token, 86_400)) !== token) return false;
  const subjects = historySubjects(record.meta, headerFromDomain(record.raw));
  await Promise.all(subjects.map((s) => deps.history.record(s, outcome)));
  return true;
}

export function startHistoryRecorder(deps: RecorderDeps): Promise<Subscription> {
  return runStage(
    deps.bus,
    {
      name: 'reputation-history',
      group: 'portcullis-reputation-history',
      from: Topics.decided,
      concurrency: deps.concurrency,
      process: async (record) => {
        await recordOne(deps, record);
        return { outputs: [] };
      },
    },
    deps,
  );
}
