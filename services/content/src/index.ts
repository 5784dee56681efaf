import { Topics, laterTurn, type MailRecord, type VerdictReply } from '@portcullis/contract';
import { runStage, type RecordBudget, type StageDefinition, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { StageDeps } from '@portcullis/service';
import { decide, decideMessage } from './verdict.js';
import { contentPool, createScanner, RULES_TASK, type Scanner } from './scan.js';
import { applyMarking } from './policy/marking.js';
import { contentMetrics, type ContentMetrics } from './metrics.js';

/** The service's deps (state: where the edge waits for the verdict). */
export type ContentDeps = StageDeps;

export { decide, decideMessage, createScanner, applyMarking, contentPool, contentMetrics, RULES_TASK };
export type { Scanner, ContentMetrics };

/** Scan one record, decide, and return the decided record (the raw message marked when tagged). */
export async function contentStep(scanner: Scanner, config: Config, record: MailRecord, metrics?: ContentMetrics, budget?: RecordBudget): Promise<MailRecord> {
  const { results, external, skippedFor } = await scanner.scan(record, new Date(), budget);
  const meta = { ...record.meta, results: [...record.meta.results, ...results] };
  const { verdict, marking } = decideMessage(meta, new Date(), { policy: config.content.policy, external });
  const raw = verdict.action === 'deliver' ? applyMarking(record.raw, marking, verdict.score) : record.raw;
  // A marked message is a new copy, and the bus record made next another: a turn of the event loop between them.
  if (raw !== record.raw) await laterTurn();
  if (metrics) {
    metrics.verdicts.inc({ action: marking.spam ? 'tag' : verdict.action, direction: meta.envelope.auth ? 'outbound' : 'inbound' });
    // A short-circuit's skips are counted as skipped work, not as mail that went on unscanned.
    if (!skippedFor) for (const r of results) if (r.outcome !== 'pass' && r.outcome !== 'none') metrics.findings.inc({ check: r.check, outcome: r.outcome });
  }
  return { meta: { ...meta, size: raw.length, verdict }, raw };
}

/**
 * The content stage scans (ClamAV, rspamd, our rules) and decides the verdict. The decided
 * record is durable before the edge is told, so a verdict the sender hears about is never lost.
 * The scanner (createScanner with the stage's pool) is the caller's to close.
 */
export function contentStage(deps: ContentDeps, scanner: Scanner): StageDefinition {
  const metrics = contentMetrics(deps.registry);
  return {
    name: 'content',
    group: 'portcullis-content',
    from: Topics.reputationChecked,
    concurrency: deps.config.stages.concurrency,
    budgeted: true,
    process: async (record, _span, budget) => {
      const decided = await contentStep(scanner, deps.config, record, metrics, budget);
      const verdict = decided.meta.verdict!;
      if (verdict.action !== 'deliver') deps.logger.info({ id: record.meta.id, action: verdict.action, by: verdict.decidedBy, reason: verdict.reason }, 'content verdict');
      const replyTo = record.meta.replyTo;
      return {
        outputs: [{ topic: Topics.decided, record: decided }],
        afterDurable:
          replyTo && Date.parse(replyTo.deadline) > Date.now()
            ? async () => {
                const reply: VerdictReply = { v: 1, id: record.meta.id, verdict };
                await deps.state.publish(replyTo.channel, JSON.stringify(reply));
              }
            : undefined,
      };
    },
  };
}

export async function startContent(deps: ContentDeps): Promise<Subscription> {
  const pool = contentPool(deps.config, deps);
  const stage = await runStage(deps.bus, contentStage(deps, createScanner(deps.config, { metrics: contentMetrics(deps.registry), pool })), deps);
  return {
    stop: async () => {
      await stage.stop();
      await pool.close();
    },
  };
}
export { ClamdClient } from './engines/clamd.js';
