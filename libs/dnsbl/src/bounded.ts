import { DnsTempError, type DnsAnswer, type DnsResolver } from '@portcullis/dns';

/**
 * One A query bounded by its own timeout and by the batch's deadline. The resolver is given the
 * signal, and is also raced against it: a resolver that ignores the signal must not hold a
 * connection's greeting (mailauth's lesson: a look-up that never answers waits forever).
 */
export async function boundedQuery(dns: DnsResolver, name: string, timeoutMs: number, deadline: AbortSignal): Promise<DnsAnswer<'A'>> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([deadline, timeout]);
  if (signal.aborted) throw new DnsTempError(deadline.aborted ? 'deadline' : 'timeout', name, 'A');
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DnsTempError(deadline.aborted ? 'deadline' : 'timeout', name, 'A'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([dns.query(name, 'A', { signal }), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
