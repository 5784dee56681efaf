import { parseAddress, parseDomain, readFromHeader } from '@portcullis/message';

/**
 * Sender identity on submission: an authenticated user may use, as MAIL FROM
 * and in the From header, only addresses it owns. `allowed` entries are
 * either a full address ("alice@example.test": that address only) or
 * "@example.test" (any address in exactly that domain, not its subdomains).
 *
 * Comparison:
 * - Domains are compared case-insensitively, after IDNA conversion to
 *   A-labels, so "Example.TEST" and a U-label domain match their ASCII form.
 * - Local parts are compared case-insensitively too, but only for ASCII
 *   letters. RFC 5321 lets a server treat local parts as case-sensitive, yet
 *   the mailbox servers we sit in front of (Dovecot, Exchange, Gmail, ...)
 *   all treat "Alice" and "alice" as one mailbox, and mail clients do
 *   capitalise addresses. Refusing "Alice@" for the owner of "alice@" would
 *   only frustrate users, and allowing it hands nobody an address that
 *   belongs to someone else. Non-ASCII letters are compared exactly (no
 *   Unicode case folding or normalisation): folding maps distinct code points
 *   together (KELVIN SIGN K to "k", dotted I, ...), which would let a user
 *   claim a look-alike address; an exact mismatch only ever refuses.
 * - Sub-addresses are not implied: owning alice@ does not grant alice+tag@.
 *   List it, or the domain, in `allowed` if wanted.
 *
 * Refused whatever `allowed` says: the null sender (submission never sends
 * bounces), anything a downstream server could read as a route elsewhere
 * (% ! or a second @ in the local part, source routes, quoted local parts,
 * backslashes), IP-literal domains, trailing dots, whitespace and controls:
 * the strict parser of libs/message (parseAddress) refuses them; the ownership
 * rules here are the edge's.
 */
export function checkSender(user: string, mailFrom: string, allowed: readonly string[]): boolean {
  if (!user) return false;
  let address = mailFrom;
  if (address.startsWith('<') && address.endsWith('>')) address = address.slice(1, -1);
  const parsed = parseAddress(address);
  if (!parsed) return false;
  for (const entry of allowed) {
    const owned = parseAllowedEntry(entry);
    if (!owned) continue;
    if (owned.domain !== parsed.domain) continue;
    if (owned.local === undefined) return true;
    if (asciiLower(owned.local) === asciiLower(parsed.local)) return true;
  }
  return false;
}

/**
 * An entry of an allowed-addresses list in canonical form: "@domain" or
 * "local@domain" with the domain in lower-case A-labels and ASCII letters of
 * the local part lower-cased. Undefined when the entry is malformed (such an
 * entry never matches anything).
 */
export function normalizeAllowedEntry(entry: string): string | undefined {
  const e = parseAllowedEntry(entry);
  if (!e) return undefined;
  return e.local === undefined ? `@${e.domain}` : `${asciiLower(e.local)}@${e.domain}`;
}

function parseAllowedEntry(entry: string): { local: string | undefined; domain: string } | undefined {
  const trimmed = entry.trim();
  if (trimmed.startsWith('@')) {
    const domain = parseDomain(trimmed.slice(1));
    return domain ? { local: undefined, domain } : undefined;
  }
  return parseAddress(trimmed);
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

// --- The From header (read by libs/message's readFromHeader) ---------------

export type FromCheck = { ok: true; addresses: string[] } | { ok: false; reason: 'missing' | 'several-fields' | 'malformed' } | { ok: false; reason: 'not-owned'; address: string };

/**
 * The From header rule for submission: exactly one From field, strictly
 * parseable, and every address in it owned by the user. `headerBlock` may be
 * the whole message: only its header section is read (libs/message's split).
 */
export function checkFromHeader(user: string, headerBlock: Buffer, allowed: readonly string[]): FromCheck {
  const info = readFromHeader(headerBlock);
  if (info.fields === 0) return { ok: false, reason: 'missing' };
  if (info.fields > 1) return { ok: false, reason: 'several-fields' };
  if (info.malformed) return { ok: false, reason: 'malformed' };
  for (const address of info.addresses) {
    if (!checkSender(user, address, allowed)) return { ok: false, reason: 'not-owned', address };
  }
  return { ok: true, addresses: info.addresses };
}
