import { demand, result, type CheckResult } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import type { AuthWord, DmarcFinding, Findings, SpfFinding } from './findings.js';

type AuthConf = Config['authentication'];
type Override = AuthConf['overrides'][number];
type Outcome = CheckResult['outcome'];

/** RFC 3463 / RFC 7372 codes for what this stage demands. */
export const CODES = { dmarc: '5.7.1', spf: '5.7.23', temp: '4.4.3' } as const;

export interface PolicyContext {
  conf: AuthConf;
  now: Date;
  /** In [0, 1): the pct= sample (RFC 7489 6.6.4). */
  random: () => number;
}

const outcomeOf = (w: AuthWord | 'invalid-from'): Outcome => (w === 'temperror' || w === 'permerror' ? 'error' : w === 'invalid-from' ? 'fail' : w);

/** Text that becomes part of an SMTP reply: printable ASCII only. */
const safe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);

/** The most specific override for a domain (the domain itself or a parent). */
export function overrideFor(domain: string, overrides: readonly Override[]): Override | undefined {
  const d = domain.toLowerCase();
  return overrides.filter((o) => d === o.domain || d.endsWith(`.${o.domain}`)).sort((a, b) => b.domain.length - a.domain.length)[0];
}

/** A trusted forwarder's valid ARC chain: it vouches for the authentication it saw. */
export function trustedArc(f: Findings, conf: AuthConf): string | undefined {
  return f.arc.result === 'pass' && f.arc.sealer && conf.arc.trustedSealers.includes(f.arc.sealer) ? f.arc.sealer : undefined;
}

function tempfailOrContinue(base: CheckResult, domain: string, ctx: PolicyContext): CheckResult {
  const mode = overrideFor(domain, ctx.conf.overrides)?.onTempError ?? ctx.conf.onTempError;
  if (mode === 'continue') return { ...base, reason: `${base.reason}; continued by configuration (onTempError: continue)` };
  return demand({ ...base, reason: safe(`Temporary authentication failure, try again later: ${base.reason}`) }, 'tempfail', CODES.temp);
}

function spfCheck(check: string, f: SpfFinding, ctx: PolicyContext, arcSealer: string | undefined): CheckResult {
  const scores = ctx.conf.spf.scores;
  const score = f.result === 'fail' || f.result === 'softfail' || f.result === 'neutral' || f.result === 'none' || f.result === 'permerror' ? scores[f.result] : 0;
  const base = result('auth', check, outcomeOf(f.result), f.reason, 0, ctx.now);
  // HELO names are often not the sender's to publish for: only their fail is enforced, not their DNS trouble.
  if (f.result === 'temperror') return check === 'auth.spf' ? tempfailOrContinue(base, f.domain, ctx) : base;
  if (f.result !== 'fail') return { ...base, score };
  if (arcSealer) return { ...base, reason: `${f.reason}; not enforced: valid ARC chain sealed by trusted ${arcSealer}` };
  const action = overrideFor(f.domain, ctx.conf.overrides)?.spfFail ?? ctx.conf.spf.onFail;
  if (action === 'score') return { ...base, score };
  const text = safe(`SPF check failed: ${f.domain} does not designate this host as a permitted sender`);
  return action === 'reject' ? demand({ ...base, reason: text }, 'reject', CODES.spf) : demand({ ...base, reason: text }, 'quarantine', '5.7.23');
}

/** RFC 7489 6.6.4: outside the pct= sample the next weaker policy applies. */
function sampled(d: DmarcFinding, ctx: PolicyContext): DmarcFinding['policy'] {
  if (!ctx.conf.dmarc.applyPct || d.pct >= 100 || ctx.random() * 100 < d.pct) return d.policy;
  return d.policy === 'reject' ? 'quarantine' : 'none';
}

/** Relaxed alignment, roughly: one domain is the other or under it (only to judge an unknown key). */
const mayAlign = (a: string, b: string) => a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);

function dmarcCheck(f: Findings, ctx: PolicyContext, arcSealer: string | undefined): CheckResult {
  const d = f.dmarc;
  const base = result('auth', 'auth.dmarc', outcomeOf(d.result), d.reason, 0, ctx.now);
  // A signature whose key could not be fetched might have passed: the DMARC failure is not final (RFC 7489 6.6.2).
  const keyUnknown = d.result === 'fail' && f.dkim.signatures.some((s) => s.result === 'temperror' && mayAlign(s.domain, d.fromDomain));
  if (d.result === 'temperror' || keyUnknown) {
    return tempfailOrContinue({ ...base, outcome: 'error', reason: keyUnknown ? `${d.reason}; a DKIM key look-up failed` : d.reason }, d.fromDomain, ctx);
  }
  if (d.result !== 'fail' && d.result !== 'invalid-from') return base;
  const failed = { ...base, score: ctx.conf.dmarc.failScore };
  if (arcSealer) return { ...failed, reason: `${d.reason}; overridden: valid ARC chain sealed by trusted ${arcSealer} (dmarc=${f.arc.sealerDmarc ?? 'unknown'} there)` };
  if (d.result === 'invalid-from') {
    const action = ctx.conf.dmarc.onInvalidFrom;
    const text = safe(`Message rejected: ${d.reason}`);
    return action === 'score' ? failed : demand({ ...failed, reason: text }, action, CODES.dmarc);
  }
  const configured = overrideFor(d.fromDomain, ctx.conf.overrides)?.dmarc ?? ctx.conf.dmarc.onFail;
  const policy = configured === 'policy' ? sampled(d, ctx) : configured;
  if (policy === 'reject') {
    return demand({ ...failed, reason: safe(`DMARC policy of ${d.policyDomain} rejects unauthenticated mail from ${d.fromDomain}`) }, 'reject', CODES.dmarc);
  }
  if (policy === 'quarantine') return demand({ ...failed, reason: safe(`${d.reason}: quarantined`) }, 'quarantine', CODES.dmarc);
  return failed;
}

function dkimCheck(f: Findings, ctx: PolicyContext): CheckResult {
  const sigs = f.dkim.signatures.map((s) => `${s.domain}/${s.selector} ${s.algo} ${s.result}${s.comment ? ` (${s.comment})` : ''}`);
  const reason = sigs.length ? `dkim=${f.dkim.result}: ${sigs.join('; ')}` : 'no DKIM signature';
  const score = f.dkim.result === 'fail' || f.dkim.result === 'permerror' ? ctx.conf.dkim.failScore : 0;
  // A DKIM temperror matters only through DMARC, which reports its own temperror when it does.
  return result('auth', 'auth.dkim', outcomeOf(f.dkim.result), reason, score, ctx.now);
}

/** The stage's results, one per check; those that policy says must decide the message carry a demand. */
export function applyPolicy(f: Findings, ctx: PolicyContext): CheckResult[] {
  const sealer = trustedArc(f, ctx.conf);
  const out = [spfCheck('auth.spf', f.spf, ctx, sealer)];
  if (f.helo) out.push(spfCheck('auth.spf-helo', f.helo, ctx, sealer));
  out.push(dkimCheck(f, ctx), dmarcCheck(f, ctx, sealer));
  out.push(result('auth', 'auth.arc', outcomeOf(f.arc.result), f.arc.reason, 0, ctx.now));
  const bimi = f.bimi.result === 'declined' ? 'none' : f.bimi.result;
  out.push(result('auth', 'auth.bimi', bimi === 'temperror' || bimi === 'permerror' ? 'error' : bimi === 'pass' ? 'pass' : 'none', f.bimi.reason, 0, ctx.now));
  return out;
}
