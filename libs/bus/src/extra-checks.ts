import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CheckResult, type MailMeta } from '@portcullis/contract';
import type { Logger, Registry } from '@portcullis/telemetry';
import { EXTRA_CHECK_TASK, stagePool, TaskThrewError, transferableCopy, type StageWorkerLimits, type WorkerPool } from '@portcullis/workers';
import type { ExtraCheck } from './stage.js';

/** One entry of stages.extraChecks. */
export interface ExtraCheckEntry {
  stage: string;
  module: string;
  thread: 'worker' | 'main';
}

const Results = CheckResult.array();

function moduleUrl(module: string): string {
  return module.startsWith('file:') ? module : pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

function checked(module: string, out: unknown): CheckResult[] {
  const parsed = Results.safeParse(out);
  if (!parsed.success) throw new TaskThrewError(`extra check ${module} did not return CheckResult[]`);
  return parsed.data;
}

/**
 * The operator's own checks for one stage (stages.extraChecks), loaded at start. A worker check
 * runs in a pool of its own under the record's budget (terminated when it is spent, like the
 * stage's parsing); a main-thread check is for checks that only wait on I/O, and past the budget
 * it is abandoned. Either way its results join the record's, and a check that misbehaves is
 * answered like any record over budget: retried, then tempfail and the dead-letter topic.
 */
export async function loadExtraChecks(
  stage: string,
  entries: readonly ExtraCheckEntry[],
  limits: StageWorkerLimits,
  deps: { registry: Registry; logger: Logger },
): Promise<{ checks: ExtraCheck[]; close(): Promise<void> }> {
  const mine = entries.filter((e) => e.stage === stage);
  let pool: WorkerPool | null = null;
  const checks: ExtraCheck[] = [];
  for (const entry of mine) {
    const url = moduleUrl(entry.module);
    if (entry.thread === 'main') {
      const mod = (await import(url)) as { default?: unknown };
      if (typeof mod.default !== 'function') throw new Error(`stages.extraChecks: ${entry.module} has no default export function`);
      const fn = mod.default as (input: { meta: MailMeta; raw: Buffer }) => unknown;
      checks.push(async (record) => checked(entry.module, await fn({ meta: record.meta, raw: record.raw })));
    } else {
      pool ??= stagePool(`${stage}-extra`, EXTRA_CHECK_TASK, limits, deps);
      const p = pool;
      checks.push(async (record, budget) => {
        const { bytes, transfer } = transferableCopy(record.raw);
        return checked(entry.module, await budget.inWorker(p, 'check', { module: url, meta: record.meta, bytes }, transfer));
      });
    }
    deps.logger.info({ stage, module: entry.module, thread: entry.thread }, 'extra check loaded');
  }
  return { checks, close: async () => void (await pool?.close()) };
}
