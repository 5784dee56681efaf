/**
 * Text that came from a message or a client (headers, subjects, addresses, HELO names), shown to an
 * operator on a terminal or a page. Control characters (terminal escapes, C1 CSI, a lone CR that
 * rewrites the line) and the invisible characters that reorder or hide text (bidi embeddings,
 * overrides and isolates, zero-width characters, line and paragraph separators) are written out
 * visibly: \x1b for the first 256 code points, \u202E for the rest. With keepLineBreaks, tabs, LF
 * and CRLF stay (a message body); without it one field stays one line.
 */
/** DEL, C1, and what reorders or hides text (Arabic letter mark, zero-width, separators, bidi, BOM, annotations). */
const INVISIBLE = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb';
// One character class and one literal alternative: linear on any input.
const HIDDEN = new RegExp(`\\r\\n|[\\u0000-\\u001f${INVISIBLE}]`, 'g');

export function escapeForDisplay(text: string, opts: { keepLineBreaks?: boolean } = {}): string {
  return text.replace(HIDDEN, (c) => {
    if (opts.keepLineBreaks && (c === '\r\n' || c === '\n' || c === '\t')) return c;
    return [...c].map(visible).join('');
  });
}

function visible(c: string): string {
  const n = c.codePointAt(0)!;
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * JSON for a terminal: JSON.stringify already escapes C0 controls, but leaves C1 and the bidi and
 * zero-width characters raw. Written as \uXXXX escapes they stay valid JSON with the same value.
 */
const JSON_HIDDEN = new RegExp(`[${INVISIBLE}]`, 'g');

export function jsonForDisplay(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
