import { demandedAction, verdict, type CheckResult, type MailMeta, type Verdict } from '@portcullis/contract';
import { DEFAULT_POLICY, externalTagFor, messageThresholds, type Policy } from './policy/thresholds.js';

/** Strongest first: a demanded reject beats a tempfail (the answer is known), which beats quarantine. */
const STRENGTH = { reject: 3, tempfail: 2, quarantine: 1 } as const;

/** How a delivered message is to be marked (X-Spam-* headers, subject prefixes). */
export interface Marking {
  spam?: { score: number; prefix: string };
  external?: { header: boolean; subjectPrefix?: string; banner?: string };
}

export interface Decision {
  verdict: Verdict;
  marking: Marking;
}

export interface DecideOptions {
  policy?: Policy;
  /** The message comes from outside (From not one of our domains); set by the scan. */
  external?: boolean;
}

/**
 * content.verdict, the one policy module: turns what every stage recorded (auth, reputation,
 * content) into one decision. A check may demand an action (CheckResult.action): the strongest
 * demand wins and its reason becomes the reply. Otherwise the summed score meets the message's
 * thresholds (global, per domain, per recipient; the strictest recipient counts): reject,
 * quarantine, tag (deliver, marked), deliver. Outgoing mail of authenticated users is never
 * rejected for its content nor tagged: what would be rejected or is spammy is held (quarantine).
 */
export function decideMessage(meta: MailMeta, now: Date = new Date(), options: DecideOptions = {}): Decision {
  const policy = options.policy ?? DEFAULT_POLICY;
  const score = round(meta.results.reduce((sum, r) => sum + r.score, 0));
  const outbound = meta.envelope.auth !== null;
  const demand = strongestDemand(meta.results);
  if (demand?.action) {
    if (demandedAction(demand, outbound) !== demand.action) {
      return { verdict: verdict('quarantine', bounded(`held (outgoing): ${demand.reason}`), demand.check, { score, now }), marking: {} };
    }
    const enhancedCode = demand.enhancedCode ?? (demand.action === 'tempfail' ? '4.7.0' : '5.7.1');
    return { verdict: verdict(demand.action, bounded(demand.reason), demand.check, { score, now, enhancedCode }), marking: {} };
  }
  const why = (limit: string, value: number): string => bounded(`score ${score} reached the ${limit} threshold ${value}${contributors(meta.results)}`);
  if (outbound) {
    if (score >= policy.outbound.hold)
      return { verdict: verdict('quarantine', `held (outgoing): ${why('hold', policy.outbound.hold)}`, 'content.verdict', { score, now }), marking: {} };
    return { verdict: verdict('deliver', summary(meta.results, score), 'content.verdict', { score, now }), marking: {} };
  }
  const t = messageThresholds(policy, meta.envelope.rcptTo);
  if (score >= t.reject)
    return { verdict: verdict('reject', `message looks like spam: ${why('reject', t.reject)}`, 'content.verdict', { score, now, enhancedCode: '5.7.1' }), marking: {} };
  if (score >= t.quarantine) return { verdict: verdict('quarantine', `suspected spam: ${why('quarantine', t.quarantine)}`, 'content.verdict', { score, now }), marking: {} };
  const marking: Marking = {};
  const external = options.external ? externalTagFor(policy, meta.envelope.rcptTo) : undefined;
  if (external) marking.external = external;
  if (score >= t.tag) {
    marking.spam = { score, prefix: policy.subjectPrefix };
    return { verdict: verdict('deliver', `tagged as spam: ${why('tag', t.tag)}`, 'content.verdict', { score, now }), marking };
  }
  return { verdict: verdict('deliver', summary(meta.results, score), 'content.verdict', { score, now }), marking };
}

/** The verdict alone (the decision without its marking). */
export function decide(meta: MailMeta, now: Date = new Date(), options: DecideOptions = {}): Verdict {
  return decideMessage(meta, now, options).verdict;
}

function summary(results: CheckResult[], score: number): string {
  return results.length === 0 ? 'no content checks configured' : `${results.length} checks, score ${score}`;
}

/** The three results that added most to the score, in the operator's words. */
function contributors(results: CheckResult[]): string {
  const top = results
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, 3);
  return top.length ? ` (${top.map((r) => `${r.check} +${round(r.score)}: ${r.reason}`).join('; ')})` : '';
}

/**
 * The reason is also the SMTP reply text: one line (RFC 5321: 512 octets with the code), no
 * control characters (a file name or display name from the message could carry a CR LF).
 */
const MAX_REASON = 400;
function bounded(reason: string): string {
  const line = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return line.length <= MAX_REASON ? line : `${line.slice(0, MAX_REASON - 3)}...`;
}

/** The first of the strongest demands (decidedReject in @portcullis/contract relies on "first"). */
function strongestDemand(results: CheckResult[]): CheckResult | undefined {
  let best: CheckResult | undefined;
  for (const r of results) {
    if (!r.action) continue;
    if (!best?.action || STRENGTH[r.action] > STRENGTH[best.action]) best = r;
  }
  return best;
}

const round = (n: number): number => Math.round(n * 100) / 100;
