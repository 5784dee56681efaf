import ipaddr from 'ipaddr.js';

/** How one list's answers are read (the config's list entry). */
export interface ListPolicy {
  zone: string;
  weight: number;
  codes: Array<{ answer: string; weight?: number | undefined; meaning: string }>;
  bits: Array<{ bit: number; weight?: number | undefined; meaning: string }>;
  errorCodes: string[];
}

/** What a list said about one name. */
export type ListVerdict =
  | { status: 'listed'; score: number; meanings: string[]; answers: string[] }
  | { status: 'not-listed' }
  /** Could not tell: DNS failure, deadline, or an answer that is an error code or not a listing code. */
  | { status: 'unknown'; why: string; answers?: string[] };

const LOOPBACK_NET = ipaddr.parseCIDR('127.0.0.0/8');

function inRange(addr: ipaddr.IPv4, range: string): boolean {
  try {
    if (!range.includes('/')) return addr.toString() === ipaddr.parse(range).toString();
    const [net, bits] = ipaddr.parseCIDR(range);
    return net.kind() === 'ipv4' && addr.match(net, bits);
  } catch {
    return false;
  }
}

/**
 * Reads the A records a list returned. The rules that keep an error from ever becoming a listing:
 * - an answer outside 127.0.0.0/8 is not a listing (RFC 5782 2.1; some lists answer a wildcard
 *   or a parked domain's address when they are gone);
 * - 127.0.0.1 is never a listing (RFC 5782 5: it is the "test for absence" address; URIBL uses it
 *   for "query refused");
 * - the list's error codes (Spamhaus 127.255.255.x: refused, e.g. through a public resolver) are
 *   unknown;
 * - with codes or bits configured, only those answers count; anything else is unknown.
 * The score of a listing is the largest weight among the matched codes or bits (a list counts
 * once, however many of its sub-lists matched).
 */
export function interpretAnswers(list: ListPolicy, answers: readonly string[]): ListVerdict {
  if (answers.length === 0) return { status: 'not-listed' };
  const meanings: string[] = [];
  let score: number | null = null;
  const take = (weight: number | undefined, meaning: string) => {
    const w = weight ?? list.weight;
    score = score === null || Math.abs(w) > Math.abs(score) ? w : score;
    if (!meanings.includes(meaning)) meanings.push(meaning);
  };
  for (const text of answers) {
    let addr: ipaddr.IPv4;
    try {
      const parsed = ipaddr.parse(text);
      if (parsed.kind() !== 'ipv4') continue;
      addr = parsed as ipaddr.IPv4;
    } catch {
      continue;
    }
    if (!addr.match(LOOPBACK_NET) || text === '127.0.0.1' || list.errorCodes.some((r) => inRange(addr, r))) continue;
    if (list.bits.length > 0) {
      const last = addr.octets[3]!;
      for (const b of list.bits) if (last & b.bit) take(b.weight, b.meaning);
    } else if (list.codes.length > 0) {
      for (const c of list.codes) if (inRange(addr, c.answer)) take(c.weight, c.meaning);
    } else {
      take(undefined, `listed (${text})`);
    }
  }
  if (score === null) return { status: 'unknown', why: 'answer is not a listing code', answers: [...answers] };
  // In the config's order (DNS gives records in any order): the same listing reads the same.
  const order = [...list.codes, ...list.bits].map((x) => x.meaning);
  meanings.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return { status: 'listed', score, meanings, answers: [...answers].sort() };
}
