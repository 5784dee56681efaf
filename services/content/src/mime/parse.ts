import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type Headers, type MessageText } from 'mailparser';

export interface Mailbox {
  name: string;
  address: string;
}

/** One attachment: its declared name and type, its size, and at most `inspectBytes` of its content. */
export interface Part {
  filename: string;
  contentType: string;
  size: number;
  /** The decoded content, or its first inspectBytes when `truncated`. */
  content: Buffer;
  truncated: boolean;
}

export interface ParsedMessage {
  from: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  html: string;
  text: string;
  parts: Part[];
}

/**
 * The message as the rules need it, parsed with mailparser's streaming MailParser (not
 * simpleParser, which keeps every attachment whole): each attachment is read through, keeping
 * no more than `inspectBytes` of it, so memory is bounded by that, the text parts and the raw
 * message the record already holds.
 */
export function parseMessage(raw: Buffer, inspectBytes: number): Promise<ParsedMessage> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
    const out: ParsedMessage = { from: [], replyTo: [], subject: '', html: '', text: '', parts: [] };
    const reading: Promise<void>[] = [];
    parser.on('headers', (headers: Headers) => {
      out.from = mailboxes(headers.get('from'));
      out.replyTo = mailboxes(headers.get('reply-to'));
      const subject = headers.get('subject');
      out.subject = typeof subject === 'string' ? subject : '';
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        out.html += typeof data.html === 'string' ? data.html : '';
        out.text += data.text ?? '';
        return;
      }
      reading.push(readPart(data, inspectBytes).then((p) => void out.parts.push(p)));
    });
    parser.on('error', reject);
    parser.on('end', () => Promise.all(reading).then(() => resolve(out), reject));
    parser.end(raw);
  });
}

function readPart(a: AttachmentStream, inspectBytes: number): Promise<Part> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    let size = 0;
    let keptBytes = 0;
    a.content.on('data', (c: Buffer) => {
      size += c.length;
      if (keptBytes < inspectBytes) {
        const piece = c.subarray(0, inspectBytes - keptBytes);
        kept.push(piece);
        keptBytes += piece.length;
      }
    });
    a.content.on('error', reject);
    a.content.on('end', () => {
      a.release?.();
      resolve({ filename: a.filename ?? '', contentType: (a.contentType ?? 'application/octet-stream').toLowerCase(), size, content: Buffer.concat(kept), truncated: size > keptBytes });
    });
  });
}

function mailboxes(value: unknown): Mailbox[] {
  const objects = (Array.isArray(value) ? value : value ? [value] : []) as AddressObject[];
  const flat: Mailbox[] = [];
  const walk = (list: EmailAddress[]): void => {
    for (const e of list) {
      if (e.group) walk(e.group);
      else if (e.address) flat.push({ name: e.name ?? '', address: e.address.toLowerCase() });
    }
  };
  for (const o of objects) if (o && Array.isArray(o.value)) walk(o.value);
  return flat;
}
