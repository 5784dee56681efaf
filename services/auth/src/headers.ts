/**
 * The header block of a raw message, and the two edits the auth stage makes to
 * it: dropping Authentication-Results that claim our authserv-id (forged, RFC
 * 8601 5) and putting ours on top. Hand-written: mailparser would re-encode the
 * message, and the bytes must stay as they were for DKIM and ARC downstream.
 */
import { domainToASCII } from 'node:url';
import { headerFields, splitMessage, unfold } from '@portcullis/message';

/** The authserv-id of an Authentication-Results value: the first token, comments and folding removed. */
export function authservIdOf(field: string): string | undefined {
  const m = /^authentication-results\s*:(.*)$/is.exec(field);
  if (!m) return undefined;
  let v = unfold(m[1]!);
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
  const end = splitMessage(raw).headerEnd;
  const ours = authservIdKey(authservId);
  const kept: Buffer[] = [];
  let removed = 0;
  for (const f of headerFields(raw.subarray(0, end))) {
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
