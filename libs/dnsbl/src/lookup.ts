import { DnsTempError, type DnsResolver } from '@portcullis/dns';
import type { SharedState } from '@portcullis/state';
import { interpretAnswers, type ListPolicy, type ListVerdict } from './answer-codes.js';
import { boundedQuery } from './bounded.js';
import type { LookupMetrics } from './lookup-metrics.js';

export interface LookupDeps {
  dns: DnsResolver;
  state: SharedState;
  metrics?: LookupMetrics;
}

export interface LookupOptions {
  timeoutMs: number;
  deadlineMs: number;
  maxCacheSeconds: number;
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
  source: 'dns' | 'cache' | 'none';
}

/** What is kept per query name: the addresses answered (empty: not listed). Read again under today's codes. */
interface Cached {
  a: string[];
}

const cacheKey = (name: string) => `dnsbl:${name.toLowerCase()}`;

async function fromCache(state: SharedState, name: string): Promise<Cached | null> {
  if (state.unhealthy() !== null) return null; // do not wait a command timeout on a store that is down
  try {
    const held = await state.get(cacheKey(name));
    return held ? (JSON.parse(held) as Cached) : null;
  } catch {
    return null; // a broken cache is a miss, never a failure of the check
  }
}

async function ask(deps: LookupDeps, q: ListQuery, opts: LookupOptions, deadline: AbortSignal): Promise<ListResult> {
  const cached = await fromCache(deps.state, q.name);
  if (cached) return { ...q, verdict: interpretAnswers(q.list, cached.a), source: 'cache' };
  let addresses: string[];
  let ttl: number;
  try {
    const answer = await boundedQuery(deps.dns, q.name, opts.timeoutMs, deadline);
    addresses = answer.status === 'ok' ? answer.records : [];
    ttl = answer.ttl;
  } catch (err) {
    const why = err instanceof DnsTempError ? `DNS ${err.failure}` : `DNS error: ${(err as Error).message}`;
    return { ...q, verdict: { status: 'unknown', why }, source: 'dns' };
  }
  const verdict = interpretAnswers(q.list, addresses);
  // An error code is not cached: the next message should ask again.
  const seconds = Math.min(ttl, opts.maxCacheSeconds);
  if (seconds >= 1 && verdict.status !== 'unknown') {
    await deps.state.set(cacheKey(q.name), JSON.stringify({ a: addresses } satisfies Cached), seconds).catch(() => undefined);
  }
  return { ...q, verdict, source: 'dns' };
}

/**
 * Asks every list at once: each query has its own timeout and all share one deadline, so the
 * slowest list costs at most deadlineMs. Answers are kept in shared state for their TTL (capped),
 * so every edge and reputation replica reuses them. Never throws: a failure is an unknown verdict.
 */
export async function lookupAll(deps: LookupDeps, queries: readonly ListQuery[], opts: LookupOptions): Promise<ListResult[]> {
  const deadline = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.deadlineMs)]) : AbortSignal.timeout(opts.deadlineMs);
  const results = await Promise.all(queries.map((q) => ask(deps, q, opts, deadline)));
  for (const r of results) deps.metrics?.lookups.inc({ zone: r.list.zone, outcome: r.verdict.status, source: r.source });
  return results;
}
