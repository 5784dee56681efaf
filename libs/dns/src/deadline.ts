import type { DnsResolver, DnsType, QueryOptions } from './resolver.js';

/**
 * The deadline for all look-ups of one message: aborts after ms, or earlier
 * when the parent signal (e.g. the stage's own) aborts.
 */
export function messageDeadline(ms: number, parent?: AbortSignal): AbortSignal {
  const own = AbortSignal.timeout(ms);
  return parent ? AbortSignal.any([own, parent]) : own;
}

/** A resolver whose every query carries the signal (plus the caller's own, if any). */
export function withSignal(resolver: DnsResolver, signal: AbortSignal): DnsResolver {
  return {
    query<T extends DnsType>(name: string, type: T, opts?: QueryOptions) {
      const s = opts?.signal ? AbortSignal.any([signal, opts.signal]) : signal;
      return resolver.query(name, type, { ...opts, signal: s });
    },
  };
}
