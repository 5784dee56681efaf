import { simpleParser, type AddressObject } from 'mailparser';
import { decodeHeaderValue, fieldValues } from '../src/header-fields.js';
import { readFromHeader } from '../src/address-parser.js';
import { messageLinks } from '../src/links/message-links.js';
import { parseMime } from '../src/mime/parse.js';
import { splitMessage } from '../src/split.js';

/** What the golden tests compare: our reading of one message, in plain JSON. */
export interface GoldenView {
  split: { headerEnd: number; bodyStart: number; ended: boolean };
  /** Subject through header-fields and libmime (not mailparser). */
  subject: string | null;
  /** The strict parser's reading of From. */
  fromHeader: { fields: number; addresses: string[]; malformed: boolean };
  /** From the MIME parse: */
  from: Array<{ name: string; address: string }>;
  replyTo: Array<{ name: string; address: string }>;
  parts: Array<{ filename: string; contentType: string; size: number }>;
  text: string;
  html: string;
  links: string[];
  /** Set when the MIME parse refused the message. */
  error?: string;
}

export async function goldenView(raw: Buffer): Promise<GoldenView> {
  const split = splitMessage(raw);
  const section = raw.subarray(0, split.headerEnd);
  const subject = fieldValues(section, 'subject')[0];
  const base = { split, subject: subject === undefined ? null : decodeHeaderValue(subject.trim()), fromHeader: readFromHeader(raw) };
  try {
    const p = await parseMime(raw, { inspectBytes: 0 });
    const parts = p.parts.map((x) => ({ filename: x.filename, contentType: x.contentType, size: x.size }));
    return { ...base, from: p.from, replyTo: p.replyTo, parts, text: p.text, html: p.html, links: messageLinks(p).links };
  } catch (e) {
    return { ...base, from: [], replyTo: [], parts: [], text: '', html: '', links: [], error: (e as Error).message };
  }
}

/** mailparser's own view of the fields both produce (simpleParser, no text made from HTML). */
export async function mailparserView(raw: Buffer): Promise<Partial<GoldenView>> {
  const m = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const mailboxes = (a: AddressObject | AddressObject[] | undefined) =>
    (a === undefined ? [] : Array.isArray(a) ? a : [a]).flatMap((o) => o.value).map((v) => ({ name: v.name, address: (v.address ?? '').toLowerCase() }));
  return {
    subject: m.subject ?? null,
    from: mailboxes(m.from),
    replyTo: mailboxes(m.replyTo),
    parts: m.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType.toLowerCase(), size: a.size })),
    text: m.text ?? '',
    html: typeof m.html === 'string' ? m.html : '',
  };
}
