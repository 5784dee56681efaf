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
  const value = fields[0]!.slice(fields[0]!.indexOf(':') + 1).replace(/"[^"]*"/g, '').replace(/\([^)]*\)/g, '');
  const domains = [...value.matchAll(/@([a-z0-9.-]+)/gi)].map((m) => m[1]!.toLowerCase());
  return domains.length === 1 ? getDomain(domains[0]!) : null;
}
