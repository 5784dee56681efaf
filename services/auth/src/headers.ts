/**
 * The header block of a raw message, and the two edits the auth stage makes to
 * it: dropping Authentication-Results that claim our authserv-id (forged, RFC
 * 8601 5) and putting ours on top. Hand-written: mailparser would re-encode the
 * message, and the bytes must stay as they were for DKIM and ARC downstream.
 */
import { domainToASCII } from 'node:url';

/** Offset of the blank line that ends the header block (the body starts after it), or the length. */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return crlf + 2;
  return lf >= 0 ? lf + 1 : raw.length;
}

/** Header fields with their continuation lines, as the raw bytes of each. */
function fields(block: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < block.length; i++) {
    if (block[i] !== 0x0a) continue;
    const next = block[i + 1];
    if (next === 0x20 || next === 0x09) continue; // folded: the field goes on
    out.push(block.subarray(start, i + 1));
    start = i + 1;
  }
  if (start < block.length) out.push(block.subarray(start));
  return out;
}

/** The authserv-id of an Authentication-Results value: the first token, comments and folding removed. */
export function authservIdOf(field: string): string | undefined {
  const m = /^authentication-results\s*:(.*)$/is.exec(field);
  if (!m) return undefined;
  let v = m[1]!.replace(/\r?\n[ \t]/g, ' ');
  for (let i = 0; i < 5 && /\([^()]*\)/.test(v); i++) v = v.replace(/\([^()]*\)/g, ' ');
  const id = /^\s*("?)([^\s;"]+)\1/.exec(v);
  return id?.[2]?.toLowerCase();
}

/**
 * An authserv-id as the domain name it is (RFC 8601 2.5), so that every spelling a reader would take
 * for ours compares equal: quoted-pairs undone ("mx.example\.test"), case folded, trailing dots
 * dropped (mx.example.test.), U-labels as A-labels. An id that is no domain name is only case-folded.
 */
export function authservIdKey(id: string): string {
  let v = id.replace(/\\(.)/g, '$1').toLowerCase();
  // Not /\.+$/: retried from every dot of a long run, that would be quadratic.
  let end = v.length;
  while (end > 0 && v[end - 1] === '.') end--;
  v = v.slice(0, end);
  return domainToASCII(v) || v;
}

export interface Stripped {
  raw: Buffer;
  /** How many Authentication-Results headers claiming our authserv-id were removed. */
  removed: number;
}

/** Removes every Authentication-Results header whose authserv-id is ours; the rest is kept byte for byte. */
export function stripForgedResults(raw: Buffer, authservId: string): Stripped {
  const end = headerEnd(raw);
  const ours = authservIdKey(authservId);
  const kept: Buffer[] = [];
  let removed = 0;
  for (const f of fields(raw.subarray(0, end))) {
    // Read as UTF-8 (RFC 6532) so that a U-label id compares as one; the bytes themselves are kept as they are.
    const id = authservIdOf(f.toString('utf8'));
    if (id !== undefined && authservIdKey(id) === ours) removed++;
    else kept.push(f);
  }
  if (!removed) return { raw, removed };
  return { raw: Buffer.concat([...kept, raw.subarray(end)]), removed };
}

/** Puts header lines (each ending in CRLF) on top of the message. */
export function prependHeaders(raw: Buffer, headers: string): Buffer {
  const text = headers.replace(/\r?\n/g, '\r\n');
  if (!text.trim()) return raw;
  return Buffer.concat([Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'utf8'), raw]);
}
