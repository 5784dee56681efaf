import { DnsTempError, type DnsResolver } from '@portcullis/dns';
import { interpretAnswers, type ListPolicy, type ListVerdict } from './answer-codes.js';
import { boundedQuery } from './bounded.js';
import type { LookupMetrics } from './lookup-metrics.js';

export interface LookupDeps {
  /** The shared DNS layer, which caches every answer per TTL (memory and shared state). */
  dns: DnsResolver;
  metrics?: LookupMetrics;
}

export interface LookupOptions {
  timeoutMs: number;
  deadlineMs: number;
  /** Aborts the whole batch (e.g. the client went away). */
  signal?: AbortSignal;
}

export interface ListQuery {
  list: ListPolicy;
  /** What is asked about: an address or a domain (for the record). */
  subject: string;
  /** The full query name, e.g. 2.0.0.127.zen.spamhaus.org. */
  name: string;
}

export interface ListResult extends ListQuery {
  verdict: ListVerdict;
}

async function ask(deps: LookupDeps, q: ListQuery, opts: LookupOptions, deadline: AbortSignal): Promise<ListResult> {
  try {
    const answer = await boundedQuery(deps.dns, q.name, opts.timeoutMs, deadline);
    return { ...q, verdict: interpretAnswers(q.list, answer.status === 'ok' ? answer.records : []) };
  } catch (err) {
    const why = err instanceof DnsTempError ? `DNS ${err.failure}` : `DNS error: ${(err as Error).message}`;
    return { ...q, verdict: { status: 'unknown', why } };
  }
}

/**
 * Asks every list at once: each query has its own timeout and all share one deadline, so the
 * slowest list costs at most deadlineMs. Never throws: a failure is an unknown verdict.
 *
 * No cache of our own: the DNS layer already keeps every answer for its TTL, in process memory
 * and in shared state (Redis) for every replica, negative answers per the SOA minimum. A second
 * layer here would save only re-reading a few A records under the list's codes (microseconds)
 * and would cost a Redis round trip of its own on every look-up, hit or miss.
 */
export async function lookupAll(deps: LookupDeps, queries: readonly ListQuery[], opts: LookupOptions): Promise<ListResult[]> {
  const deadline = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.deadlineMs)]) : AbortSignal.timeout(opts.deadlineMs);
  const results = await Promise.all(queries.map((q) => ask(deps, q, opts, deadline)));
  for (const r of results) deps.metrics?.lookups.inc({ zone: r.list.zone, outcome: r.verdict.status });
  return results;
}
