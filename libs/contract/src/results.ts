import type { CheckResult, Verdict, VerdictAction } from './record.js';

export function result(stage: string, check: string, outcome: CheckResult['outcome'], reason: string, score = 0, now: Date = new Date()): CheckResult {
  return { stage, check, outcome, reason, score, at: now.toISOString() };
}

/** A result that demands an action of the verdict (see CheckResult.action). */
export function demand(base: CheckResult, action: NonNullable<CheckResult['action']>, enhancedCode: string): CheckResult {
  return { ...base, action, enhancedCode };
}

export function verdict(action: VerdictAction, reason: string, decidedBy: string, opts: { enhancedCode?: string; score?: number; now?: Date } = {}): Verdict {
  const v: Verdict = {
    action,
    reason,
    decidedBy,
    score: opts.score ?? 0,
    at: (opts.now ?? new Date()).toISOString(),
  };
  if (opts.enhancedCode) v.enhancedCode = opts.enhancedCode;
  return v;
}

/**
 * The action a result's demand becomes in the verdict (content.verdict): outgoing mail of our own
 * users is held, not rejected, for what the content stage found in it.
 */
export function demandedAction(r: CheckResult, outbound: boolean): CheckResult['action'] {
  return r.action === 'reject' && outbound && r.stage === 'content' ? 'quarantine' : r.action;
}

/**
 * The earlier result that makes the verdict a reject whatever the later stages add, if any: the
 * short-circuit that spares them their look-ups and scans. The verdict takes the first of the
 * strongest demands and a demanded reject is the strongest, so only the first result that demands
 * a reject can decide, and it does when that demand stays a reject (not an outgoing message's
 * content finding, which is held). Scores never decide here: a later result may lower them.
 */
export function decidedReject(results: readonly CheckResult[], outbound: boolean): CheckResult | undefined {
  const first = results.find((r) => r.action === 'reject');
  return first && demandedAction(first, outbound) === 'reject' ? first : undefined;
}

/** The result that stands for a check not run because `by` had already decided the reject. */
export function skippedFor(stage: string, check: string, by: CheckResult, now: Date = new Date()): CheckResult {
  return result(stage, check, 'skip', `not run: ${by.check} already demands reject`, 0, now);
}
