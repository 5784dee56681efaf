import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type Headers, type MessageText } from 'mailparser';

export interface Mailbox {
  /** The display name, encoded words decoded ('' when there is none). */
  name: string;
  /** The address, lower case. */
  address: string;
}

/** One attachment (any part that is not inline text): its declared name and type, its decoded size, and at most `inspectBytes` of it. */
export interface Part {
  filename: string;
  contentType: string;
  /** Decoded octets. */
  size: number;
  /** The decoded content, or its first inspectBytes when `truncated`. */
  content: Buffer;
  truncated: boolean;
}

export interface ParsedMessage {
  /** From and Reply-To mailboxes (group members included), addresses in lower case. */
  from: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  /** The text/html parts, decoded to strings (at most maxTextChars). */
  html: string;
  /** The text/plain parts, decoded (at most maxTextChars); never text made from the HTML. */
  text: string;
  parts: Part[];
}

export interface MimeLimits {
  /** MIME parts (nodes) of the whole message; past it the parse fails (mailsplit's maxChildNodes). */
  maxParts: number;
  /** Nesting of multiparts and attached messages; a part deeper than this fails the parse. */
  maxDepth: number;
  /** Decoded octets of all attachments together; past it the parse fails (a 1 KiB base64 run decodes to less, but a part can be declared many times over). */
  maxDecodedBytes: number;
  /** Characters kept of the text and of the HTML (each); the rest is read and dropped. */
  maxTextChars: number;
  /** Octets kept of each attachment's content (0: sized and named, not kept). */
  inspectBytes: number;
}

/**
 * The limits when the caller names none. 1000 parts is mailsplit's own default (and the limit the
 * content stage always had); 50 levels is far past what any mail client writes (three or four);
 * 64 MiB decoded is more than any message the edge admits (its default size limit is 25 MiB, and
 * base64 decodes to three quarters of its size); 2 MiB of text is what both stages read.
 */
export const DEFAULT_MIME_LIMITS: MimeLimits = {
  maxParts: 1000,
  maxDepth: 50,
  maxDecodedBytes: 64 * 1024 * 1024,
  maxTextChars: 2 * 1024 * 1024,
  inspectBytes: 0,
};

/** A message past one of the limits: the parse fails, as it does for what mailparser refuses. */
export class MimeLimitError extends Error {
  constructor(
    readonly limit: 'depth' | 'decoded-bytes',
    message: string,
  ) {
    super(message);
    this.name = 'MimeLimitError';
  }
}

export const EMPTY_MESSAGE: ParsedMessage = { from: [], replyTo: [], subject: '', html: '', text: '', parts: [] };

/**
 * The one MIME parse of every stage, with mailparser's streaming MailParser (not simpleParser,
 * which keeps every attachment whole): each attachment is read through, keeping no more than
 * `inspectBytes` of it, so memory is bounded by that, the text and the raw message the record
 * already holds. It runs in the stages' parsing workers (libs/workers), where a message that
 * still takes too long is stopped.
 */
export function parseMime(raw: Buffer, limits: Partial<MimeLimits> = {}): Promise<ParsedMessage> {
  const l = { ...DEFAULT_MIME_LIMITS, ...limits };
  return new Promise((resolve, reject) => {
    // skipHtmlToText: the text is what the sender wrote as text; links and rules read the HTML themselves.
    const parser = new MailParser({ skipHtmlToText: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, maxChildNodes: l.maxParts });
    const out: ParsedMessage = { ...EMPTY_MESSAGE, parts: [] };
    const reading: Promise<void>[] = [];
    let decoded = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      parser.destroy();
      reject(err);
    };
    parser.on('headers', (headers: Headers) => {
      out.from = mailboxes(headers.get('from'));
      out.replyTo = mailboxes(headers.get('reply-to'));
      const subject = headers.get('subject');
      out.subject = typeof subject === 'string' ? subject : '';
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        out.html = (typeof data.html === 'string' ? data.html : '').slice(0, l.maxTextChars);
        out.text = (data.text ?? '').slice(0, l.maxTextChars);
        return;
      }
      const depth = data.partId ? data.partId.split('.').length : 0;
      if (depth > l.maxDepth) return fail(new MimeLimitError('depth', `MIME parts nested deeper than ${l.maxDepth}`));
      const count = (n: number): boolean => {
        decoded += n;
        if (decoded <= l.maxDecodedBytes) return true;
        fail(new MimeLimitError('decoded-bytes', `attachments decode to more than ${l.maxDecodedBytes} octets`));
        return false;
      };
      reading.push(readPart(data, l.inspectBytes, count).then((p) => void out.parts.push(p)));
    });
    parser.on('error', fail);
    parser.on('end', () => {
      Promise.all(reading).then(() => failed || resolve(out), fail);
    });
    parser.end(raw);
  });
}

function readPart(a: AttachmentStream, inspectBytes: number, count: (n: number) => boolean): Promise<Part> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    let size = 0;
    let keptBytes = 0;
    a.content.on('data', (c: Buffer) => {
      size += c.length;
      if (!count(c.length)) return;
      if (keptBytes < inspectBytes) {
        const piece = c.subarray(0, inspectBytes - keptBytes);
        kept.push(piece);
        keptBytes += piece.length;
      }
    });
    a.content.on('error', reject);
    a.content.on('end', () => {
      a.release?.();
      resolve({
        filename: a.filename ?? '',
        contentType: (a.contentType ?? 'application/octet-stream').toLowerCase(),
        size,
        content: Buffer.concat(kept),
        truncated: size > keptBytes,
      });
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
