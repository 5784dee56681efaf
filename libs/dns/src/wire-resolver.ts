import type packet from 'dns-packet';
import type { Logger } from '@portcullis/telemetry';
import { DnsTempError, type DnsAnswer, type DnsFailure, type DnsResolver, type DnsType, type QueryOptions } from './resolver.js';
import type { DnsServer } from './servers.js';
import { exchange, ExchangeError, isWireName } from './wire.js';
import { interpret } from './answer.js';
import { AnswerCache } from './cache.js';
import { Limiter } from './limiter.js';
import type { DnsMetrics } from './metrics.js';

export interface WireResolverOptions {
  servers: DnsServer[];
  timeoutMs: number;
  attempts: number;
  maxInFlight: number;
  /** TTL for a negative answer that came without an SOA. */
  negativeTtlSeconds: number;
  cache: AnswerCache;
  metrics: DnsMetrics;
  logger?: Logger | undefined;
}

/** CNAMEs followed across queries (each response's own chain is followed inside it). */
const MAX_CNAME_QUERIES = 8;

/**
 * The DNS layer's resolver: our own client (dns-packet on UDP, TCP when truncated)
 * because Node's dns.Resolver hides TTLs for most types, the SOA minimum of
 * negative answers and the difference between NODATA and errors.
 */
export class WireResolver implements DnsResolver {
  private readonly inFlight = new Map<string, Promise<DnsAnswer>>();
  private readonly limiter: Limiter;

  constructor(private readonly opts: WireResolverOptions) {
    this.limiter = new Limiter(opts.maxInFlight);
  }

  async query<T extends DnsType>(name: string, type: T, opts: QueryOptions = {}): Promise<DnsAnswer<T>> {
    const qname = name.replace(/\.$/, '').toLowerCase();
    const m = this.opts.metrics;
    // A name that cannot be encoded cannot exist (a label over 63 octets from a link in a message):
    // it is not asked, and not cached, and the answer is that it does not exist.
    if (!isWireName(qname)) {
      m.lookups.inc({ type, outcome: 'nxdomain' });
      return { status: 'nxdomain', records: [], ttl: this.opts.negativeTtlSeconds } as DnsAnswer<T>;
    }
    try {
      const answer = await this.lookup(qname, type, opts.signal, 0);
      m.lookups.inc({ type, outcome: answer.status });
      return answer as DnsAnswer<T>;
    } catch (err) {
      const failure: DnsFailure = err instanceof DnsTempError ? err.failure : 'network';
      m.lookups.inc({ type, outcome: failure });
      throw err instanceof DnsTempError ? err : new DnsTempError(failure, qname, type);
    }
  }

  private async lookup(name: string, type: DnsType, signal: AbortSignal | undefined, depth: number): Promise<DnsAnswer> {
    if (signal?.aborted) throw new DnsTempError('deadline', name, type);
    const hit = await this.opts.cache.get(name, type);
    if (hit) {
      this.opts.metrics.cacheHits.inc({ type, tier: hit.tier });
      return hit.answer;
    }
    // One query on the wire per (name, type) at a time; later askers share it.
    const key = AnswerCache.key(name, type);
    let pending = this.inFlight.get(key);
    if (!pending) {
      // Not bound to this caller's signal: others may wait longer. Timeouts x servers x attempts bound it.
      pending = this.resolveAndCache(name, type, depth).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return signal ? raceAbort(pending, signal, name, type) : pending;
  }

  private async resolveAndCache(name: string, type: DnsType, depth: number): Promise<DnsAnswer> {
    const stop = this.opts.metrics.duration.startTimer({ type });
    try {
      const res = await this.ask(name, type);
      const got = interpret(res, name, type);
      if (got.kind === 'fail') throw new DnsTempError(got.failure, name, type);
      if (got.kind === 'cname') {
        if (depth >= MAX_CNAME_QUERIES) throw new DnsTempError('servfail', name, type);
        const target = await this.lookup(got.target, type, undefined, depth + 1);
        return { ...target, ttl: Math.min(target.ttl, got.ttl) } as DnsAnswer;
      }
      const answer: DnsAnswer =
        got.kind === 'ok' ? { status: 'ok', records: got.records, ttl: got.ttl } : { status: got.kind, records: [], ttl: got.ttl ?? this.opts.negativeTtlSeconds };
      return await this.opts.cache.set(name, type, answer);
    } finally {
      stop();
    }
  }

  /** Every server in turn, for the configured rounds; the last failure is the one reported. */
  private async ask(name: string, type: DnsType): Promise<packet.Packet> {
    let failure: DnsFailure = 'network';
    const release = await this.limiter.acquire();
    try {
      for (let round = 0; round < this.opts.attempts; round++) {
        for (const server of this.opts.servers) {
          try {
            const res = await exchange({ server, name, type: type as packet.RecordType, timeoutMs: this.opts.timeoutMs }, (transport) =>
              this.opts.metrics.queries.inc({ type, transport }),
            );
            const rcode = (res as { rcode?: string }).rcode;
            if (rcode === 'SERVFAIL' || rcode === 'REFUSED') {
              failure = rcode === 'SERVFAIL' ? 'servfail' : 'refused';
              continue; // another server may know better
            }
            return res;
          } catch (err) {
            if (!(err instanceof ExchangeError)) throw err;
            if (err.kind === 'timeout') this.opts.metrics.timeouts.inc({ type });
            failure = err.kind === 'aborted' ? 'deadline' : err.kind;
            this.opts.logger?.debug({ server: `${server.host}:${server.port}`, name, type, error: err.message }, 'DNS query failed');
          }
        }
      }
    } finally {
      release();
    }
    throw new DnsTempError(failure, name, type);
  }
}

/** The caller's deadline ends its wait even when the shared query goes on for others. */
function raceAbort(p: Promise<DnsAnswer>, signal: AbortSignal, name: string, type: DnsType): Promise<DnsAnswer> {
  if (signal.aborted) return Promise.reject(new DnsTempError('deadline', name, type));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new DnsTempError('deadline', name, type));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
