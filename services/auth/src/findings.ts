import type { AuthenticateResult, SPFResult } from 'mailauth';
import { domainOf } from '@portcullis/contract';
import type { Verification } from './verify.js';

/** mailauth's result words, folded: temperr (deprecated) is temperror, policy is fail, skipped is none. */
export type AuthWord = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface SpfFinding {
  result: AuthWord;
  domain: string;
  reason: string;
}

export interface DkimSignatureFinding {
  domain: string;
  selector: string;
  algo: string;
  result: AuthWord;
  comment: string;
}

export interface DmarcFinding {
  /** invalid-from: several From headers, several addresses in From, or none (RFC 7489 6.6.1). */
  result: AuthWord | 'invalid-from';
  fromDomain: string;
  /** The domain's effective policy (p=, or sp= for a subdomain; lowered with t=y). */
  policy: 'none' | 'quarantine' | 'reject' | undefined;
  policyDomain: string;
  /** pct= of the record (RFC 7489 6.6.4); 100 when absent. */
  pct: number;
  reason: string;
}

export interface ArcFinding {
  result: AuthWord;
  instance: number;
  /** d= of the newest ARC-Seal. */
  sealer: string | undefined;
  /** What that sealer recorded for DMARC, in its ARC-Authentication-Results. */
  sealerDmarc: string | undefined;
  reason: string;
}

export interface Findings {
  spf: SpfFinding;
  helo: SpfFinding | undefined;
  dkim: { result: AuthWord; signatures: DkimSignatureFinding[] };
  dmarc: DmarcFinding;
  arc: ArcFinding;
  bimi: { result: AuthWord | 'declined'; location: string | undefined; reason: string };
  /** What mailauth would put on top of the message: Received-SPF, Authentication-Results, ARC set. */
  headers: string;
}

export function word(r: string | undefined): AuthWord {
  switch (r) {
    case 'pass':
    case 'fail':
    case 'softfail':
    case 'neutral':
    case 'permerror':
    case 'temperror':
      return r;
    case 'temperr':
      return 'temperror';
    case 'policy':
      return 'fail';
    default:
      return 'none';
  }
}

const comment = (s: { comment?: string | undefined }) => (s.comment ? ` (${s.comment})` : '');

function spfFinding(r: SPFResult | false | undefined): SpfFinding {
  if (!r) return { result: 'none', domain: '', reason: 'no SPF identity to check' };
  const result = word(r.status.result);
  return { result, domain: r.domain, reason: `spf=${result} for ${r.domain}${comment(r.status)}` };
}

function dmarcFinding(a: AuthenticateResult): DmarcFinding {
  const d = a.dmarc;
  const fromDomains = [...new Set(a.dkim.headerFrom.map((f) => domainOf(f)))];
  const fromFields = a.dkim.fromFields ?? a.dkim.headerFrom.length;
  if (!d || fromFields !== 1 || fromDomains.length !== 1) {
    const why =
      fromFields === 0
        ? 'no From header'
        : fromFields > 1
          ? `${fromFields} From headers`
          : fromDomains.length > 1
            ? `several From domains (${fromDomains.join(', ')})`
            : (a.dmarcSkipReason ?? 'no author domain');
    return { result: 'invalid-from', fromDomain: fromDomains.join(','), policy: undefined, policyDomain: '', pct: 100, reason: `${why}: no single author domain (RFC 7489 6.6.1)` };
  }
  const result = word(d.status.result);
  const pct = /(?:^|;)\s*pct\s*=\s*(\d+)/i.exec(d.rr ?? '');
  const policy = ['none', 'quarantine', 'reject'].includes(d.policy) ? (d.policy as DmarcFinding['policy']) : undefined;
  return {
    result,
    fromDomain: d.status.header?.from ?? fromDomains[0] ?? '',
    policy,
    policyDomain: d.policyDomain ?? d.domain,
    pct: pct ? Math.min(100, Number(pct[1])) : 100,
    reason: `dmarc=${result} for ${d.status.header?.from ?? fromDomains[0]}${policy ? ` (p=${policy}${pct ? ` pct=${pct[1]}` : ''})` : ''}${comment(d.status)}`,
  };
}

function arcFinding(a: AuthenticateResult): ArcFinding {
  const arc = a.arc;
  if (!arc) return { result: 'none', instance: 0, sealer: undefined, sealerDmarc: undefined, reason: 'arc not checked' };
  const result = word(arc.status.result);
  const chain = (Object.getOwnPropertyDescriptor(arc, 'chain')?.value ?? []) as Array<{ 'arc-seal'?: { parsed?: { d?: { value?: string } } } }>;
  const seal = chain[chain.length - 1]?.['arc-seal'];
  const sealer = (seal?.parsed?.d?.value ?? (arc.signature ? arc.signature.signingDomain : undefined))?.toLowerCase();
  const sealerDmarc = (arc.authenticationResults as { dmarc?: { result?: string } } | undefined)?.dmarc?.result;
  const instance = typeof arc.i === 'number' ? arc.i : 0;
  return { result, instance, sealer, sealerDmarc, reason: `arc=${result}${instance ? ` i=${instance} sealed by ${sealer}` : ''}${comment(arc.status)}` };
}

/** Folds what mailauth found into the few facts the policy needs, with reasons fit for an operator. */
export function findings(v: Verification): Findings {
  const a = v.auth;
  const signatures = (a.dkim.results ?? [])
    .filter((r) => r.signingDomain || r.status.result !== 'none')
    .map((r) => ({ domain: r.signingDomain ?? '', selector: r.selector ?? '', algo: r.algo ?? '', result: word(r.status.result), comment: r.status.comment ?? '' }));
  const dkimResult: AuthWord = signatures.some((s) => s.result === 'pass')
    ? 'pass'
    : signatures.length === 0
      ? 'none'
      : signatures.some((s) => s.result === 'temperror')
        ? 'temperror'
        : 'fail';
  const bimi = a.bimi ? a.bimi.status.result : 'none';
  return {
    spf: spfFinding(a.spf),
    helo: v.helo ? spfFinding(v.helo) : undefined,
    dkim: { result: dkimResult, signatures },
    dmarc: dmarcFinding(a),
    arc: arcFinding(a),
    bimi: {
      result: bimi === 'declined' ? 'declined' : word(bimi),
      location: a.bimi ? a.bimi.location : undefined,
      reason: a.bimi ? `bimi=${a.bimi.status.result}${a.bimi.location ? ` l=${a.bimi.location}` : ''}${comment(a.bimi.status)}` : 'bimi not checked',
    },
    headers: a.headers,
  };
}
