import type { Envelope } from '@portcullis/contract';
import { EMPTY_MESSAGE, parseMime, type ParsedMessage } from '@portcullis/message';
import { messageDomains, type MessageDomains } from './message-domains.js';

/** Text read per message for links (per kind: text, HTML). */
const MAX_TEXT_CHARS = 2 * 1024 * 1024;
/**
 * Octets of the message parsed for links. The text parts come first in nearly every message;
 * past this come attachments, which a link check has no business decoding (a 25 MiB message
 * would cost its full MIME decode here). A part cut short is read as far as it goes.
 */
export const MAX_PARSED_BYTES = 4 * 1024 * 1024;

/** What the parsing worker hands back: plain data, no text of the message beyond addresses and domains. */
export interface MessageLinks {
  /** From addresses, lower case (the local lists and history look at them). */
  from: string[];
  found: MessageDomains;
  /** Set when the message could not be parsed; the envelope's domains are still there. */
  parseError?: string;
}

/** The CPU part of the reputation stage: the MIME parse (libs/message), then the link targets of text and HTML. */
export async function messageLinks(raw: Buffer, envelope: Envelope, ours: ReadonlySet<string>, maxLinks: number): Promise<MessageLinks> {
  let parts: ParsedMessage = EMPTY_MESSAGE;
  let parseError: string | undefined;
  try {
    // Attachments are sized, not kept (inspectBytes 0): links hide in the text and the HTML.
    parts = await parseMime(raw.subarray(0, MAX_PARSED_BYTES), { maxTextChars: MAX_TEXT_CHARS, inspectBytes: 0 });
  } catch (err) {
    parseError = (err as Error).message;
  }
  const found = messageDomains(parts, envelope, ours, maxLinks);
  return { from: parts.from.map((m) => m.address), found, ...(parseError !== undefined ? { parseError } : {}) };
}
