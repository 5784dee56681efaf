import { simpleParser } from 'mailparser';
import { convert } from 'html-to-text';

export interface SafeView {
  headers: { name: string; value: string }[];
  /** The text part (or the HTML converted to plain text): text only, never markup to render. */
  text: string;
  truncated: boolean;
  attachments: { filename: string; contentType: string; size: number }[];
}

const MAX_TEXT = 100_000;
const MAX_HEADERS = 200;

/**
 * Control characters (terminal escapes, bidi overrides) shown as \u{..}, so that the text cannot
 * act on the operator's terminal or page; tabs and line breaks stay.
 */
export function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * relay.quarantine-view: what the operator sees of a quarantined message:
 * its headers and its text, as escaped plain text. HTML is never passed on
 * (only its text), scripts and attachments are never opened, only named.
 */
export async function safeView(raw: Buffer): Promise<SafeView> {
  const parsed = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true, skipTextLinks: true });
  const headers = parsed.headerLines.slice(0, MAX_HEADERS).map((h) => ({ name: escapeControls(h.key), value: escapeControls(h.line.slice(h.line.indexOf(':') + 1).trim()) }));
  // mailparser makes text of a lone HTML body, not of one inside multipart/mixed: do it here.
  const full = parsed.text ?? (typeof parsed.html === 'string' ? convert(parsed.html, { selectors: [{ selector: 'img', format: 'skip' }, { selector: 'a', options: { ignoreHref: true } }] }) : '');
  return {
    headers,
    text: escapeControls(full.slice(0, MAX_TEXT)),
    truncated: full.length > MAX_TEXT,
    attachments: parsed.attachments.map((a) => ({ filename: escapeControls(a.filename ?? ''), contentType: escapeControls(a.contentType), size: a.size })),
  };
}
