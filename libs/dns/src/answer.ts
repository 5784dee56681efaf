import type packet from 'dns-packet';
import type { DnsFailure, DnsRecords, DnsType } from './resolver.js';

/** What one response says about (name, type), before caching. */
export type Interpretation =
  | { kind: 'ok'; records: DnsRecords[DnsType]; ttl: number }
  | { kind: 'nxdomain' | 'nodata'; ttl: number | null }
  /** The answer ends in a CNAME whose target this server did not resolve: ask for the target. */
  | { kind: 'cname'; target: string; ttl: number }
  | { kind: 'fail'; failure: DnsFailure };

const lower = (n: string) => n.replace(/\.$/, '').toLowerCase();

function recordData(type: DnsType, a: packet.Answer): DnsRecords[DnsType][number] | undefined {
  const data = (a as { data?: unknown }).data;
  switch (type) {
    case 'TXT': {
      // RFC 7208 3.3: the character-strings of one TXT record are joined without spaces.
      const parts = Array.isArray(data) ? data : [data];
      return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(String(p))))).toString('utf8');
    }
    case 'MX': {
      const mx = data as { preference?: number; exchange: string };
      return { priority: mx.preference ?? 0, exchange: lower(mx.exchange) };
    }
    case 'A':
    case 'AAAA':
      return String(data);
    default:
      return lower(String(data));
  }
}

/** RFC 2308 5: a negative answer lives min(SOA TTL, SOA minimum). */
function negativeTtl(res: packet.Packet): number | null {
  const soa = res.authorities?.find((a) => a.type === 'SOA') as packet.Answer & { ttl?: number; data?: packet.SoaData };
  if (!soa?.data) return null;
  return Math.min(soa.ttl ?? 0, soa.data.minimum ?? soa.ttl ?? 0);
}

function failureOf(rcode: string): DnsFailure {
  if (rcode === 'REFUSED') return 'refused';
  if (rcode === 'FORMERR') return 'formerr';
  return 'servfail'; // SERVFAIL, NOTIMP and anything unexpected: could not get an answer
}

/**
 * Reads a response for (name, type), following the CNAME chain inside it.
 * NXDOMAIN and NODATA are answers; other rcodes are failures.
 */
export function interpret(res: packet.Packet, name: string, type: DnsType): Interpretation {
  const rcode = (res as { rcode?: string }).rcode ?? 'NOERROR';
  if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return { kind: 'fail', failure: failureOf(rcode) };
  const answers = res.answers ?? [];
  let current = lower(name);
  let ttl = Number.MAX_SAFE_INTEGER;
  for (let hops = 0; hops <= 16; hops++) {
    const here = answers.filter((a) => lower(a.name) === current);
    const matching = here.filter((a) => a.type === type);
    if (matching.length) {
      const records = matching.map((a) => recordData(type, a)).filter((r) => r !== undefined);
      const minTtl = Math.min(ttl, ...matching.map((a) => (a as { ttl?: number }).ttl ?? 0));
      return { kind: 'ok', records: records as DnsRecords[DnsType], ttl: minTtl };
    }
    const cname = type === 'CNAME' ? undefined : here.find((a) => a.type === 'CNAME');
    if (!cname) break;
    ttl = Math.min(ttl, (cname as { ttl?: number }).ttl ?? 0);
    current = lower(String((cname as { data?: unknown }).data));
  }
  if (current !== lower(name) && rcode === 'NOERROR' && !negativeAbout(res, current)) {
    return { kind: 'cname', target: current, ttl };
  }
  return { kind: rcode === 'NXDOMAIN' ? 'nxdomain' : 'nodata', ttl: negativeTtl(res) };
}

/** True when the authority section (an SOA for a zone holding name) says the target has nothing. */
function negativeAbout(res: packet.Packet, name: string): boolean {
  return (res.authorities ?? []).some((a) => a.type === 'SOA' && (name === lower(a.name) || name.endsWith(`.${lower(a.name)}`)));
}
