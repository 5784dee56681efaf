import { verdict, type CheckResult, type MailMeta, type Verdict } from '@portcullis/contract';

/** Strongest first: a demanded reject beats a tempfail (the answer is known), which beats quarantine. */
const STRENGTH = { reject: 3, tempfail: 2, quarantine: 1 } as const;

/**
 * content.verdict: turns what every stage recorded into one decision. A check
 * may demand an action (CheckResult.action); the strongest demand wins and its
 * reason becomes the reply. The scoring thresholds arrive with the content
 * issue; until then, without a demand, a message is delivered, with the reason
 * saying so rather than pretending it was scanned.
 */
export function decide(meta: MailMeta, now: Date = new Date()): Verdict {
  const score = meta.results.reduce((sum, r) => sum + r.score, 0);
  const demand = strongestDemand(meta.results);
  if (demand?.action) {
    return verdict(demand.action, demand.reason, demand.check, {
      score,
      now,
      enhancedCode: demand.enhancedCode ?? (demand.action === 'tempfail' ? '4.7.0' : '5.7.1'),
    });
  }
  const checks = meta.results.length;
  const reason = checks === 0 ? 'no content checks configured' : `${checks} checks, score ${score}`;
  return verdict('deliver', reason, 'content.verdict', { score, now });
}

function strongestDemand(results: CheckResult[]): CheckResult | undefined {
  let best: CheckResult | undefined;
  for (const r of results) {
    if (!r.action) continue;
    if (!best?.action || STRENGTH[r.action] > STRENGTH[best.action]) best = r;
  }
  return best;
}
