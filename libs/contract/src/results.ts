import type { CheckResult, Verdict, VerdictAction } from './record.js';

export function result(
  stage: string,
  check: string,
  outcome: CheckResult['outcome'],
  reason: string,
  score = 0,
  now: Date = new Date(),
): CheckResult {
  return { stage, check, outcome, reason, score, at: now.toISOString() };
}

/** A result that demands an action of the verdict (see CheckResult.action). */
export function demand(
  base: CheckResult,
  action: NonNullable<CheckResult['action']>,
  enhancedCode: string,
): CheckResult {
  return { ...base, action, enhancedCode };
}

export function verdict(
  action: VerdictAction,
  reason: string,
  decidedBy: string,
  opts: { enhancedCode?: string; score?: number; now?: Date } = {},
): Verdict {
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
