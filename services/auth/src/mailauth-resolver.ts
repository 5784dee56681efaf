import { DnsTempError, type DnsResolver, type DnsType } from '@portcullis/dns';

const TYPES = new Set<string>(['A', 'AAAA', 'TXT', 'MX', 'PTR', 'CNAME', 'NS']);

/** Node's dns error codes, which mailauth reads to tell "nothing there" from "could not ask". */
const CODE: Record<DnsTempError['failure'], string> = {
  timeout: 'ETIMEOUT',
  deadline: 'ETIMEOUT',
  servfail: 'ESERVFAIL',
  refused: 'EREFUSED',
  network: 'ECONNREFUSED',
  formerr: 'EFORMERR',
};

export type MailauthResolver = (name: string, type: string) => Promise<string[][] | string[]>;

function dnsError(code: string, name: string, type: string): Error {
  return Object.assign(new Error(`${code} ${name} ${type}`), { code, hostname: name });
}

/**
 * Our DnsResolver in the shape mailauth expects (that of dns.promises.resolve):
 * TXT as arrays of strings, NXDOMAIN as ENOTFOUND, NODATA as ENODATA, every
 * temporary failure as the matching E* code, and every query under the message's deadline.
 */
export function mailauthResolver(resolver: DnsResolver, signal: AbortSignal): MailauthResolver {
  return async (name, type) => {
    const qtype = type.toUpperCase();
    if (!TYPES.has(qtype)) throw dnsError('ENOTIMP', name, type);
    let answer;
    try {
      answer = await resolver.query(name, qtype as DnsType, { signal });
    } catch (err) {
      if (err instanceof DnsTempError) throw dnsError(CODE[err.failure], name, type);
      throw err;
    }
    if (answer.status === 'nxdomain') throw dnsError('ENOTFOUND', name, type);
    if (answer.status === 'nodata' || answer.records.length === 0) throw dnsError('ENODATA', name, type);
    if (qtype === 'TXT') return (answer.records as string[]).map((r) => [r]);
    return answer.records as unknown as string[];
  };
}
