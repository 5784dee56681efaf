import { result, type CheckResult } from '@portcullis/contract';
import type { ListResult } from './lookup.js';

/** The sum of what the lists said (unknown and not-listed add nothing). */
export function totalScore(results: readonly ListResult[]): number {
  return results.reduce((sum, r) => sum + (r.verdict.status === 'listed' ? r.verdict.score : 0), 0);
}

/** Lists that listed the subject with a positive weight, e.g. "zen.spamhaus.org (SBL)". */
export function blockingLists(results: readonly ListResult[]): string[] {
  return results
    .filter((r) => r.verdict.status === 'listed' && r.verdict.score > 0)
    .map((r) => (r.verdict.status === 'listed' && r.verdict.meanings.length > 0 ? `${r.list.zone} (${r.verdict.meanings.join(', ')})` : r.list.zone));
}

/**
 * One result per list asked, naming the list, the subject and the answer, so the operator can
 * see why. Listed on a block list: fail; on an allow list (negative weight): pass; not listed:
 * none; could not tell: error with "unknown" (never a listing, never blocking).
 */
export function listCheckResults(stage: string, check: string, results: readonly ListResult[], now = new Date()): CheckResult[] {
  return results.map((r) => {
    const v = r.verdict;
    const where = `${r.list.zone} for ${r.subject}`;
    switch (v.status) {
      case 'listed':
        return result(stage, check, v.score < 0 ? 'pass' : 'fail', `${where}: listed ${v.answers.join(',')} ${v.meanings.join(', ')}`, v.score, now);
      case 'not-listed':
        return result(stage, check, 'none', `${where}: not listed`, 0, now);
      case 'unknown':
        return result(stage, check, 'error', `${where}: unknown, ${v.why}${v.answers ? ` (${v.answers.join(',')})` : ''}`, 0, now);
    }
  });
}
