import { domainToASCII } from 'node:url';
import { parseMailboxList } from './address-parser.js';

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
 * backslashes), IP-literal domains, trailing dots, whitespace and controls.
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

export interface ParsedAddress {
  /** As written (case kept). */
  local: string;
  /** Lower-case A-label form. */
  domain: string;
}

/** A plain dot-atom address we are willing to treat as a sender, or undefined. */
export function parseAddress(address: string): ParsedAddress | undefined {
  if (address.length === 0 || address.length > 254) return undefined;
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@')) return undefined;
  const local = address.slice(0, at);
  const domain = parseDomain(address.slice(at + 1));
  if (!domain || !validLocal(local)) return undefined;
  return { local, domain };
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

// RFC 5322 atext without % and ! (percent hack, bang path), plus non-ASCII
// (RFC 6531) checked separately.
const LOCAL_ASCII = /^[A-Za-z0-9#$&'*+\-/=?^_`{|}~]$/;

function validLocal(local: string): boolean {
  if (Buffer.byteLength(local, 'utf8') > 64) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  for (const ch of local) {
    if (ch === '.') continue;
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) {
      if (!LOCAL_ASCII.test(ch)) return false;
    } else if (/[\p{C}\p{Z}]/u.test(ch)) {
      return false; // non-ASCII controls, format characters (zero-width), separators
    }
  }
  return true;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function parseDomain(domain: string): string | undefined {
  if (domain.length === 0 || domain.length > 253) return undefined;
  if (domain.startsWith('[') || domain.endsWith('.') || domain.startsWith('.') || domain.includes('..')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f@%!"\\/:?#[\]<>,;()]/.test(domain)) return undefined;
  if (/[\p{C}\p{Z}]/u.test(domain)) return undefined;
  const ascii = /^[\x21-\x7e]+$/.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
  if (!ascii || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  // An all-numeric last label is an IPv4 address in disguise (1.2.3.4, or 0x7f.1 after WHATWG parsing).
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return ascii;
}

// --- The From header -------------------------------------------------------

export interface FromHeaderInfo {
  /** How many From fields the header block has (RFC 5322 wants exactly one). */
  fields: number;
  /** Every mailbox address, in order, across all From fields. */
  addresses: string[];
  /** A From field could not be parsed strictly (see parseMailboxList). */
  malformed: boolean;
}

/**
 * The address(es) of the From field(s) of a message. `headerBlock` is the
 * message's header (anything after the first empty line is ignored).
 * A From field that cannot be parsed strictly contributes one '' entry,
 * which checkSender never accepts; a message with no From field gives [].
 */
export function extractFromAddresses(headerBlock: Buffer): string[] {
  const info = readFromHeader(headerBlock);
  return info.addresses;
}

export function readFromHeader(headerBlock: Buffer): FromHeaderInfo {
  const info: FromHeaderInfo = { fields: 0, addresses: [], malformed: false };
  for (const value of headerFields(headerBlock, 'from')) {
    info.fields++;
    const addresses = parseMailboxList(value);
    if (addresses === undefined || addresses.length === 0) {
      info.malformed = true;
      info.addresses.push('');
    } else {
      for (const a of addresses) info.addresses.push(a); // not push(...): 150k mailboxes overflow the stack
    }
  }
  return info;
}

export type FromCheck = { ok: true; addresses: string[] } | { ok: false; reason: 'missing' | 'several-fields' | 'malformed' } | { ok: false; reason: 'not-owned'; address: string };

/**
 * The From header rule for submission: exactly one From field, strictly
 * parseable, and every address in it owned by the user.
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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Unfolded values of the fields called `name` (lower case). The block is read
 * byte for byte (latin1) to find lines; values are then decoded as UTF-8
 * (RFC 6532), and a value that is not valid UTF-8 is returned as '\u0000',
 * which no parser accepts.
 */
function* headerFields(headerBlock: Buffer, name: string): Generator<string> {
  const text = headerBlock.toString('latin1');
  const lines = text.split('\n');
  let current: string | undefined;
  const flush = function* (): Generator<string> {
    if (current === undefined) return;
    const colon = current.indexOf(':');
    // The name ends before the spaces and tabs that may precede the colon (obs-optional, RFC 5322
    // 4.5.3), found by index: /[ \t]+$/ would be retried from every position of a long run.
    let nameEnd = colon;
    while (nameEnd > 0 && (current[nameEnd - 1] === ' ' || current[nameEnd - 1] === '\t')) nameEnd--;
    if (colon > 0 && current.slice(0, nameEnd).toLowerCase() === name) {
      try {
        yield utf8.decode(Buffer.from(current.slice(colon + 1), 'latin1'));
      } catch {
        yield '\u0000';
      }
    }
    current = undefined;
  };
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break; // end of the header block
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current !== undefined) current += line; // unfold: drop the line break, keep the WSP
      continue;
    }
    yield* flush();
    current = line;
  }
  yield* flush();
}
