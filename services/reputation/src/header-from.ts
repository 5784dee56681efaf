import { getDomain } from 'tldts';
import { fieldValueOctets, headerSection } from '@portcullis/message';

/** Headers are read up to this many octets: the From field is near the top. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The registered domain of the single address in the From header, without parsing the body (the
 * history recorder needs only this). Several addresses or none: null (DMARC cannot pass then either).
 *
 * Read as leniently as mailauth reads From for DMARC (the history is kept per DMARC author
 * domain), not with the strict parser of @portcullis/message: a From that parser refuses (an
 * unclosed comment before the address, say) still has the one domain DMARC evaluated.
 */
export function headerFromDomain(raw: Buffer): string | null {
  const fields = fieldValueOctets(headerSection(raw.subarray(0, MAX_HEADER_BYTES)), 'from');
  if (fields.length !== 1) return null;
  const value = fields[0]!.toString('latin1');
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
