import { convert } from 'html-to-text';
import { escapeForDisplay } from '@portcullis/contract';
import { DEFAULT_MIME_LIMITS, headerFields, headerSection, parseMime, type ParsedMessage } from '@portcullis/message';

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
 *
 * The parse is libs/message's bounded one (parseMime): attachments are read through and
 * counted, not kept, and the text is kept up to its limit, so a 25 MiB quarantined message
 * costs the admin API no more than its text. The headers are the top-level header section as
 * written (libs/message's split), one entry per field.
 */
export async function safeView(raw: Buffer): Promise<SafeView> {
  let parsed: ParsedMessage;
  try {
    parsed = await parseMime(raw, { inspectBytes: 0 });
  } catch (err) {
    return rawView(raw, (err as Error).message);
  }
  const headers = headerFields(headerSection(raw))
    .slice(0, MAX_HEADERS)
    .map((field) => {
      // An 8-bit header is UTF-8 (RFC 6532): read as such, a bidi override shows as \u202E rather than as three latin1 letters.
      const text = field.toString('utf8');
      const colon = text.indexOf(':');
      // The name as the message spells it, the value unfolded.
      return { name: line(colon > 0 ? text.slice(0, colon).trim() : ''), value: line(unfold(text.slice(colon + 1).trim())) };
    });
  // parseMime keeps the text parts as written and never makes text of HTML: a message with HTML only is converted here.
  const fromHtml = parsed.text === '' && parsed.html !== '';
  const full = fromHtml
    ? convert(parsed.html, {
        selectors: [
          { selector: 'img', format: 'skip' },
          { selector: 'a', options: { ignoreHref: true } },
        ],
      })
    : parsed.text;
  return {
    headers,
    text: escapeForDisplay(full.slice(0, MAX_TEXT), { keepLineBreaks: true }),
    // The HTML kept is cut at the parse's limit: its text may then be short of what the message holds.
    truncated: full.length > MAX_TEXT || (fromHtml && parsed.html.length >= DEFAULT_MIME_LIMITS.maxTextChars),
    attachments: parsed.parts.map((a) => ({ filename: line(a.filename), contentType: line(a.contentType), size: a.size })),
  };
}

/**
 * RFC 5322 2.2.3: a folded header is one line; each CRLF + white space of a fold is shown as one
 * space (a tab would only show escaped). Any other CR or LF stays and is escaped by `line`.
 * For display only: libs/message's unfold keeps the blanks, as the RFC does for reading.
 */
const unfold = (s: string) => s.replace(/\r\n[ \t]+/g, ' ');

/** One header value or name: escaped so that it stays one line on the operator's screen. */
const line = (s: string) => escapeForDisplay(s);

/**
 * A message the parser refused (a MIME part whose header passes mailparser's limit, or a message
 * past one of parseMime's bounds: the reason content quarantined it) is still the operator's to
 * judge: shown as it is, escaped, the octets read as UTF-8, its line breaks kept.
 */
function rawView(raw: Buffer, reason: string): SafeView {
  const text = raw.subarray(0, MAX_TEXT).toString('utf8').replace(/\r\n/g, '\n');
  return { headers: [], text: escapeForDisplay(text, { keepLineBreaks: true }), truncated: raw.length > MAX_TEXT, attachments: [], unparsed: escapeForDisplay(reason) };
}
