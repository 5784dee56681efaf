import type { CheckResult } from '@portcullis/contract';
import { ipQueryName } from './query-name.js';
import { lookupAll, type ListQuery, type ListResult, type LookupDeps, type LookupOptions } from './lookup.js';
import { blockingLists, listCheckResults, totalScore } from './list-results.js';
import type { ListPolicy } from './answer-codes.js';

export interface ClientIpPolicy extends LookupOptions {
  lists: ListPolicy[];
  refuseAt: number;
  tarpitAt: number;
}

export interface ClientIpVerdict {
  decision: 'refuse' | 'tarpit' | 'pass';
  score: number;
  /** Block lists that listed the address, for the reply text. */
  listedBy: string[];
  lists: ListResult[];
  results: CheckResult[];
}

/**
 * connect.dnsbl: the client address against every DNSBL and DNSWL at once; the weights are summed
 * (an allow list's negative weight offsets a block list's) and the sum decides. Unknown answers
 * add nothing, so a DNS outage never refuses mail.
 */
export async function checkClientIp(deps: LookupDeps, ip: string, policy: ClientIpPolicy, now = new Date()): Promise<ClientIpVerdict> {
  const queries: ListQuery[] = [];
  for (const list of policy.lists) {
    const name = ipQueryName(ip, list.zone);
    if (name) queries.push({ list, subject: ip, name });
  }
  const started = performance.now();
  const lists = queries.length > 0 ? await lookupAll(deps, queries, policy) : [];
  deps.metrics?.batch.observe({ use: 'connect' }, (performance.now() - started) / 1000);
  const score = totalScore(lists);
  const decision = lists.length > 0 && score >= policy.refuseAt ? 'refuse' : lists.length > 0 && score >= policy.tarpitAt ? 'tarpit' : 'pass';
  return { decision, score, listedBy: blockingLists(lists), lists, results: listCheckResults('connect', 'connect.dnsbl', lists, now) };
}
