import { decidedReject, skippedFor, type CheckResult, type MailRecord } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import { unbounded, type RecordBudget } from '@portcullis/bus';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { stagePool, transferableCopy, type WorkerPool } from '@portcullis/workers';
import { ClamdClient } from './engines/clamd.js';
import { RspamdClient } from './engines/rspamd.js';
import type { ContentCheck, ScanContext } from './checks/context.js';
import { antispamCheck, antivirusCheck } from './checks/engines.js';
import { timed, UNPARSED, type RulesOutcome } from './rules.js';
import type { ContentMetrics } from './metrics.js';

export interface ScanOutcome {
  results: CheckResult[];
  /** From outside our domains, not submitted by our users (for external tagging). */
  external: boolean;
  /** Not scanned: the earlier result that had already decided the reject (results are its `skip`s). */
  skippedFor?: CheckResult;
}

export interface Scanner {
  scan(record: MailRecord, now?: Date, budget?: RecordBudget): Promise<ScanOutcome>;
  /** Stops the scanner's own worker pool (when it made one). */
  close(): Promise<void>;
}

/** What a decided record is spared: both engines and the parse with our rules. */
const SKIPPABLE = ['content.antivirus', 'content.antispam', 'content.rules'];

/** The worker task module (compiled beside this file). */
export const RULES_TASK = new URL('./rules-task.js', import.meta.url);

/** The content stage's parsing pool (stages.workers threads running rules-task). */
export function contentPool(config: Config, deps: Parameters<typeof stagePool>[3]): WorkerPool {
  return stagePool('content', RULES_TASK, config.stages, deps, { config: config.content, localDomains: config.domains.map((d) => d.name.toLowerCase()) });
}

export interface ScannerOptions {
  metrics?: ContentMetrics;
  /** The stage's pool; without one the scanner makes its own (tests, bench) and close() stops it. */
  pool?: WorkerPool;
}

/**
 * The content stage's checks over one message, side by side: both engines on this thread (I/O
 * with their own timeouts) and the parse with our rules in a worker of the pool (CPU, stopped
 * when the record's budget is spent). A worker that is terminated or dies rejects the scan: the
 * stage's budget takes over, never a pass. A record an earlier stage has already decided to reject
 * (decidedReject) is not scanned: each check gets a `skip` result naming the result that decided.
 */
export function createScanner(config: Config, opts: ScannerOptions = {}): Scanner {
  const c = config.content;
  const clamd = c.antivirus.enabled ? new ClamdClient(c.antivirus) : undefined;
  const rspamd = c.antispam.enabled ? new RspamdClient(c.antispam) : undefined;
  const engines: Array<[string, ContentCheck]> = [
    ['antivirus', antivirusCheck(clamd)],
    ['antispam', antispamCheck(rspamd)],
  ];
  const localDomains = config.domains.map((d) => d.name.toLowerCase());
  const own = opts.pool ? null : contentPool(config, { registry: createRegistry(), logger: createLogger({ level: 'silent', service: 'content' }) });
  const pool = (opts.pool ?? own)!;
  const metrics = opts.metrics;
  const observe = (name: string) => (seconds: number) => metrics?.checkDuration.observe({ check: name }, seconds);
  return {
    async scan(record, now = new Date(), budget = unbounded()) {
      const decided = decidedReject(record.meta.results, record.meta.envelope.auth !== null);
      if (decided) {
        metrics?.skipped.inc({ decided_by: decided.check });
        return { results: SKIPPABLE.map((check) => skippedFor('content', check, decided, now)), external: false, skippedFor: decided };
      }
      // The engines read the raw message and the envelope only, never the parsed one.
      const ctx: ScanContext = { meta: record.meta, raw: record.raw, parsed: UNPARSED, config: c, localDomains, outbound: record.meta.envelope.auth !== null, now };
      const { bytes, transfer } = transferableCopy(record.raw);
      const [rules, ...found] = await Promise.all([
        budget.inWorker<RulesOutcome>(pool, 'rules', { bytes, meta: record.meta, now: now.getTime() }, transfer),
        ...engines.map(([name, check]) => timed(name, check, ctx, observe(name))),
      ]);
      for (const [name, seconds] of rules.timings) observe(name)(seconds);
      return { results: [...rules.unparsed, ...found.flat(), ...rules.rules], external: rules.external };
    },
    close: async () => {
      await own?.close();
    },
  };
}
