/**
 * The DNS layer every service shares. This file is the contract; the
 * implementation (servers, per-query timeouts, per-message deadlines, caches,
 * metrics) lives beside it.
 *
 * Semantics (RFC 1035, RFC 2308): NXDOMAIN and NODATA are answers, never
 * errors; SERVFAIL, REFUSED, timeouts and an expired deadline are temporary
 * errors, raised as DnsTempError, so a caller can never mistake "could not
 * ask" for "nothing there".
 */
export type DnsType = 'A' | 'AAAA' | 'TXT' | 'MX' | 'PTR' | 'CNAME' | 'NS';

export interface MxRecord {
  priority: number;
  exchange: string;
}

/** The records of one type, in the shape each type needs. TXT: one string per record, its strings joined (RFC 7208 3.3). */
export interface DnsRecords {
  A: string[];
  AAAA: string[];
  TXT: string[];
  MX: MxRecord[];
  PTR: string[];
  CNAME: string[];
  NS: string[];
}

export type DnsAnswer<T extends DnsType = DnsType> =
  | { status: 'ok'; records: DnsRecords[T]; ttl: number }
  /** The name does not exist; ttl is the SOA minimum (negative caching). */
  | { status: 'nxdomain'; records: []; ttl: number }
  /** The name exists but has no record of this type. */
  | { status: 'nodata'; records: []; ttl: number };

export type DnsFailure = 'servfail' | 'refused' | 'timeout' | 'deadline' | 'network' | 'formerr';

export class DnsTempError extends Error {
  readonly failure: DnsFailure;
  readonly qname: string;
  readonly qtype: DnsType;
  constructor(failure: DnsFailure, qname: string, qtype: DnsType) {
    super(`DNS ${failure} for ${qname} ${qtype}`);
    this.name = 'DnsTempError';
    this.failure = failure;
    this.qname = qname;
    this.qtype = qtype;
  }
}

export interface QueryOptions {
  /** Aborts the query (a message's deadline for all of its look-ups is an AbortSignal). */
  signal?: AbortSignal;
}

export interface DnsResolver {
  /** Resolves, following CNAMEs; throws DnsTempError for anything that is not an answer. */
  query<T extends DnsType>(name: string, type: T, opts?: QueryOptions): Promise<DnsAnswer<T>>;
}
