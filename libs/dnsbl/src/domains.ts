import type { CheckResult } from '@portcullis/contract';
import { result } from '@portcullis/contract';
import { domainQueryName, ipQueryName } from './query-name.js';
import { lookupAll, type ListQuery, type ListResult, type LookupDeps, type LookupOptions } from './lookup.js';
import { listCheckResults, totalScore } from './list-results.js';
import type { ListPolicy } from './answer-codes.js';

export interface DomainPolicy extends LookupOptions {
  lists: ListPolicy[];
  /** Cap on domains asked about per message; each is asked of every list. */
  maxDomains: number;
}

export interface DomainVerdict {
  score: number;
  lists: ListResult[];
  results: CheckResult[];
  /** Domains not asked about because of the cap. */
  skipped: string[];
}

/**
 * reputation.uribl: registered domains against URIBL/DBL-style lists, in the order given (the
 * caller puts the most telling first: link targets, then sender domains), up to maxDomains.
 */
export async function checkDomains(deps: LookupDeps, domains: readonly string[], policy: DomainPolicy, now = new Date()): Promise<DomainVerdict> {
  const unique = [...new Set(domains.map((d) => d.toLowerCase()))];
  const asked = unique.slice(0, policy.maxDomains);
  const skipped = unique.slice(policy.maxDomains);
  const queries: ListQuery[] = asked.flatMap((d) => policy.lists.map((list) => ({ list, subject: d, name: domainQueryName(d, list.zone) })));
  const started = performance.now();
  const lists = queries.length > 0 ? await lookupAll(deps, queries, policy) : [];
  deps.metrics?.batch.observe({ use: 'content' }, (performance.now() - started) / 1000);
  const results = listCheckResults('reputation', 'reputation.uribl', lists, now).filter((r) => r.outcome !== 'none');
  if (queries.length > 0) {
    const clean = lists.filter((l) => l.verdict.status === 'not-listed').length;
    results.push(result('reputation', 'reputation.uribl', 'info', `${asked.length} domains, ${queries.length} look-ups, ${clean} not listed`, 0, now));
  }
  if (skipped.length > 0) results.push(result('reputation', 'reputation.uribl', 'info', `${skipped.length} more domains not looked up (cap ${policy.maxDomains})`, 0, now));
  return { score: totalScore(lists), lists, results, skipped };
}

/**
 * reputation.ip-link: the addresses links point to (http://192.0.2.7/) against IP lists, up to
 * max of them. Only listings and unknowns are recorded.
 */
export async function checkLinkAddresses(
  deps: LookupDeps,
  ips: readonly string[],
  policy: LookupOptions & { lists: ListPolicy[]; max: number },
  now = new Date(),
): Promise<DomainVerdict> {
  const unique = [...new Set(ips.map((ip) => ip.replace(/^\[|\]$/g, '')))];
  const queries: ListQuery[] = [];
  for (const ip of unique.slice(0, policy.max)) {
    for (const list of policy.lists) {
      const name = ipQueryName(ip, list.zone);
      if (name) queries.push({ list, subject: ip, name });
    }
  }
  const lists = queries.length > 0 ? await lookupAll(deps, queries, policy) : [];
  const results = listCheckResults('reputation', 'reputation.ip-link', lists, now).filter((r) => r.outcome !== 'none');
  return { score: totalScore(lists), lists, results, skipped: unique.slice(policy.max) };
}
