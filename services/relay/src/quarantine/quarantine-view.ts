import { simpleParser } from 'mailparser';
import { convert } from 'html-to-text';
import { escapeForDisplay } from '@portcullis/contract';

export interface SafeView {
  headers: { name: string; value: string }[];
  /** The text part (or the HTML converted to plain text): text only, never markup to render. */
  text: string;
  truncated: boolean;
  attachments: { filename: string; contentType: string; size: number }[];
  /** Set when the message could not be parsed (why it may have been quarantined): `text` is then the raw message. */
  unparsed?: string;
}

const MAX_TEXT = 100_000;
const MAX_HEADERS = 200;

/**
 * relay.quarantine-view: what the operator sees of a quarantined message:
 * its headers and its text, as escaped plain text. HTML is never passed on
 * (only its text), scripts and attachments are never opened, only named.
 */
export async function safeView(raw: Buffer): Promise<SafeView> {
  let parsed: Awaited<ReturnType<typeof simpleParser>>;
  try {
    parsed = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true, skipTextLinks: true });
  } catch (err) {
    return rawView(raw, (err as Error).message);
  }
  const headers = parsed.headerLines.slice(0, MAX_HEADERS).map((h) => {
    const colon = h.line.indexOf(':');
    // The name as the message spells it (mailparser's key is lower-cased), the value unfolded.
    return { name: line(colon > 0 ? h.line.slice(0, colon).trim() : h.key), value: line(unfold(octetsAsUtf8(h.line.slice(colon + 1).trim()))) };
  });
  // mailparser makes text of a lone HTML body, not of one inside multipart/mixed: do it here.
  const full =
    parsed.text ??
    (typeof parsed.html === 'string'
      ? convert(parsed.html, {
          selectors: [
            { selector: 'img', format: 'skip' },
            { selector: 'a', options: { ignoreHref: true } },
          ],
        })
      : '');
  return {
    headers,
    text: escapeForDisplay(full.slice(0, MAX_TEXT), { keepLineBreaks: true }),
    truncated: full.length > MAX_TEXT,
    attachments: parsed.attachments.map((a) => ({ filename: line(a.filename ?? ''), contentType: line(a.contentType), size: a.size })),
  };
}

/**
 * mailparser gives raw header lines one character per octet; an 8-bit header is UTF-8 (RFC 6532),
 * so it is read as such: a bidi override then shows as \u202E rather than as three latin1 letters.
 */
function octetsAsUtf8(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) && !/[^\x00-\xff]/.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/**
 * RFC 5322 2.2.3: a folded header is one line; each CRLF + white space of a fold is shown as one
 * space (a tab would only show escaped). Any other CR or LF stays and is escaped by `line`.
 */
const unfold = (s: string) => s.replace(/\r\n[ \t]+/g, ' ');

/** One header value or name: escaped so that it stays one line on the operator's screen. */
const line = (s: string) => escapeForDisplay(s);

/**
 * A message the parser refused (a MIME part whose header passes mailparser's limit, for one: the
 * reason content quarantined it) is still the operator's to judge: shown as it is, escaped, the
 * octets read as UTF-8, its line breaks kept.
 */
function rawView(raw: Buffer, reason: string): SafeView {
  const text = raw.subarray(0, MAX_TEXT).toString('utf8').replace(/\r\n/g, '\n');
  return { headers: [], text: escapeForDisplay(text, { keepLineBreaks: true }), truncated: raw.length > MAX_TEXT, attachments: [], unparsed: escapeForDisplay(reason) };
}
