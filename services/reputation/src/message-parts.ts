import { simpleParser, type AddressObject } from 'mailparser';

export interface MessageParts {
  text: string;
  html: string;
  /** Header addresses, lower case: From and Reply-To. */
  from: string[];
  replyTo: string[];
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value).map((v) => (v.address ?? '').toLowerCase()).filter((a) => a.includes('@'));
}

/**
 * The parts of a message links hide in, decoded: mailparser undoes quoted-printable and base64
 * transfer encodings and charsets, in every text/plain and text/html part. Text beyond
 * maxTextChars (per kind) is not read: a link past a megabyte of text is no one's business.
 */
export async function readMessage(raw: Buffer, maxTextChars: number): Promise<MessageParts> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  return {
    text: (parsed.text ?? '').slice(0, maxTextChars),
    html: html.slice(0, maxTextChars),
    from: addresses(parsed.from),
    replyTo: addresses(parsed.replyTo),
  };
}
