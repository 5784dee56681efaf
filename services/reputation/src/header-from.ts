import { getDomain } from 'tldts';

/** Headers are read up to this many octets: the From field is near the top. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The registered domain of the single address in the From header, without parsing the body (the
 * history recorder needs only this). Several addresses or none: null (DMARC cannot pass then either).
 */
export function headerFromDomain(raw: Buffer): string | null {
  const head = raw.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const unfolded = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const fields = unfolded.split(/\r?\n/).filter((l) => /^from\s*:/i.test(l));
  if (fields.length !== 1) return null;
  const value = fields[0]!.slice(fields[0]!.indexOf(':') + 1);
  const bare = dropEnclosed(dropEnclosed(value, '"', '"'), '(', ')');
  const domains = [...bare.matchAll(/@([a-z0-9.-]+)/gi)].map((m) => m[1]!.toLowerCase());
  return domains.length === 1 ? getDomain(domains[0]!) : null;
}

/**
 * s without each `open`...`close` span (the first close after an open ends it; an open with no
 * close after it is kept). By index: /\([^)]*\)/g rescans to the end from every "(" of an
 * unclosed run, which is quadratic.
 */
function dropEnclosed(s: string, open: string, close: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const a = s.indexOf(open, i);
    const b = a < 0 ? -1 : s.indexOf(close, a + 1);
    if (b < 0) return out + s.slice(i);
    out += s.slice(i, a);
    i = b + 1;
  }
}
