import { verdict, type MailMeta, type Verdict } from '@portcullis/contract';

/**
 * content.verdict: turns what every stage recorded into one decision. The
 * scanners and thresholds arrive with the content issue; today no stage
 * records a failing result, so every message is delivered, with the reason
 * saying so rather than pretending it was scanned.
 */
export function decide(meta: MailMeta, now: Date = new Date()): Verdict {
  const score = meta.results.reduce((sum, r) => sum + r.score, 0);
  const checks = meta.results.length;
  const reason = checks === 0 ? 'no content checks configured' : `${checks} checks, score ${score}`;
  return verdict('deliver', reason, 'content.verdict', { score, now });
}
