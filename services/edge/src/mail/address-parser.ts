/**
 * The strict RFC 5322 mailbox-list parser of the From header check (sender-identity.ts), kept in a
 * file of its own: it is the parser the message library takes over (issue 15).
 */

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
        else if (c !== undefined && c.charCodeAt(0) < 0x20 && c !== '\t') return undefined;
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
        else if (c !== undefined && c.charCodeAt(0) < 0x20 && c !== '\t') return undefined;
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
