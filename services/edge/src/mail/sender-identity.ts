import { domainToASCII } from 'node:url';

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

export type FromCheck =
  | { ok: true; addresses: string[] }
  | { ok: false; reason: 'missing' | 'several-fields' | 'malformed' }
  | { ok: false; reason: 'not-owned'; address: string };

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

type Token =
  | { kind: 'atom'; text: string; space: boolean }
  | { kind: 'quoted'; text: string; space: boolean }
  | { kind: 'literal'; text: string; space: boolean }
  | { kind: 'special'; text: string; space: boolean };

/**
 * Strict RFC 5322 mailbox-list parser. Returns the addr-specs (quoted local
 * parts keep their quotes so that checkSender refuses them), or undefined
 * when the value is anything but a clean list of `addr-spec` or
 * `[display-name] <addr-spec>` separated by commas.
 *
 * It is deliberately stricter than the lenient parsers used to compose mail
 * (nodemailer's addressparser turns `a@x <b@y> <c@z>` into b@y named
 * "a@x c@z", and `<a@x> b@y` into a@x named "b@y"): mail clients and DMARC
 * verifiers disagree on what such values mean, so a value that is not
 * unambiguous is refused instead of guessed at. Refused as well: groups,
 * obsolete routes (<@a:b@c>), empty list elements, whitespace inside an
 * addr-spec, and an unquoted @ in a display name.
 */
export function parseMailboxList(value: string): string[] | undefined {
  const tokens = tokenize(value);
  if (!tokens) return undefined;
  const out: string[] = [];
  let i = 0;
  const special = (t: Token | undefined, ch: string): boolean => t !== undefined && t.kind === 'special' && t.text === ch;
  for (;;) {
    // A mailbox runs to the next top-level comma or the end.
    let end = i;
    let angle = -1;
    while (end < tokens.length && !special(tokens[end], ',')) {
      if (special(tokens[end], '<')) {
        angle = end;
        break;
      }
      end++;
    }
    let addr: string | undefined;
    if (angle >= 0) {
      // display-name: words (atoms, quoted strings) and, obsolete but common, dots
      for (let k = i; k < angle; k++) {
        const t = tokens[k];
        if (!t || !(t.kind === 'atom' || t.kind === 'quoted' || special(t, '.'))) return undefined;
      }
      // The first > after this <, searched from the < (from the start, a list of many
      // mailboxes would be rescanned once per mailbox: quadratic).
      let close = -1;
      for (let k = angle + 1; k < tokens.length && close < 0; k++) if (special(tokens[k], '>')) close = k;
      if (close < 0) return undefined;
      addr = addrSpec(tokens.slice(angle + 1, close), true);
      end = close + 1;
      if (end < tokens.length && !special(tokens[end], ',')) return undefined; // nothing may follow >
    } else {
      addr = addrSpec(tokens.slice(i, end), false);
    }
    if (addr === undefined) return undefined;
    out.push(addr);
    if (end >= tokens.length) return out;
    i = end + 1; // past the comma
    if (i >= tokens.length) return undefined; // trailing comma
  }
}

function addrSpec(tokens: Token[], inAngle: boolean): string | undefined {
  const at = tokens.findIndex((t) => t.kind === 'special' && t.text === '@');
  if (at <= 0 || at === tokens.length - 1) return undefined;
  // No whitespace or comments inside an addr-spec (legal as obs-, but ambiguous
  // to readers); the first token may follow whitespace only outside <>.
  for (let k = 1; k < tokens.length; k++) if (tokens[k]?.space) return undefined;
  if (inAngle && tokens[0]?.space) return undefined;
  const local = dotted(tokens.slice(0, at), true);
  const domainTokens = tokens.slice(at + 1);
  let domain: string | undefined;
  if (domainTokens.length === 1 && domainTokens[0]?.kind === 'literal') domain = domainTokens[0].text;
  else domain = dotted(domainTokens, false);
  if (local === undefined || domain === undefined) return undefined;
  return `${local}@${domain}`;
}

/** word *("." word): atoms (and, for local parts, quoted strings) separated by single dots. */
function dotted(tokens: Token[], allowQuoted: boolean): string | undefined {
  if (tokens.length === 0 || tokens.length % 2 === 0) return undefined;
  let s = '';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (!t) return undefined;
    if (k % 2 === 1) {
      if (!(t.kind === 'special' && t.text === '.')) return undefined;
      s += '.';
    } else {
      if (!(t.kind === 'atom' || (allowQuoted && t.kind === 'quoted'))) return undefined;
      s += t.text;
    }
  }
  return s;
}

const SPECIALS = '()<>[]:;@\\,."';

function tokenize(value: string): Token[] | undefined {
  const tokens: Token[] = [];
  let space = false;
  let i = 0;
  const n = value.length;
  while (i < n) {
    const ch = value[i] as string;
    const cp = ch.charCodeAt(0);
    if (ch === ' ' || ch === '\t') {
      space = true;
      i++;
      continue;
    }
    if (cp < 0x20 || cp === 0x7f) return undefined; // CR, LF, NUL and other controls
    if (ch === '(') {
      // comment, nested, with quoted-pairs
      let depth = 0;
      for (; i < n; i++) {
        const c = value[i];
        if (c === '\\') i++;
        else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
        else if (c !== undefined && (c.charCodeAt(0) < 0x20 && c !== '\t')) return undefined;
      }
      if (depth !== 0) return undefined;
      i++;
      space = true;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      for (; j < n; j++) {
        const c = value[j];
        if (c === '\\') j++;
        else if (c === '"') break;
        else if (c !== undefined && (c.charCodeAt(0) < 0x20 && c !== '\t')) return undefined;
      }
      if (j >= n) return undefined;
      tokens.push({ kind: 'quoted', text: value.slice(i, j + 1), space });
      space = false;
      i = j + 1;
      continue;
    }
    if (ch === '[') {
      const j = value.indexOf(']', i);
      if (j < 0) return undefined;
      const inner = value.slice(i + 1, j);
      if (/[[\\]/.test(inner)) return undefined;
      tokens.push({ kind: 'literal', text: value.slice(i, j + 1), space });
      space = false;
      i = j + 1;
      continue;
    }
    if (ch === ')' || ch === ']' || ch === '\\') return undefined;
    if (SPECIALS.includes(ch)) {
      tokens.push({ kind: 'special', text: ch, space });
      space = false;
      i++;
      continue;
    }
    let j = i;
    while (j < n) {
      const c = value[j] as string;
      const code = c.charCodeAt(0);
      if (c === ' ' || c === '\t' || SPECIALS.includes(c) || code < 0x20 || code === 0x7f) break;
      j++;
    }
    tokens.push({ kind: 'atom', text: value.slice(i, j), space });
    space = false;
    i = j;
  }
  return tokens;
}
