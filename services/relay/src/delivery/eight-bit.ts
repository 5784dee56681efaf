import { isAscii } from 'node:buffer';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { fieldName, fieldValues, headerLines, splitMessage } from '@portcullis/message';

export interface ExtensionNeeds {
  /** An address of the envelope is not ASCII: the next hop must offer SMTPUTF8 (RFC 6531). */
  utf8Address: boolean;
  eightBitHeaders: boolean;
  /** The body has octets above 127: the next hop must offer 8BITMIME (RFC 6152), or it is converted. */
  eightBitBody: boolean;
}

// node:buffer's isAscii is native (one pass, no callback per octet): a 25 MiB message is scanned
// without holding the event loop that serves SMTP in embedded mode.
const has8bit = (b: Buffer) => !isAscii(b);
const nonAscii = (s: string) => /[^\x00-\x7f]/.test(s);

export function extensionNeeds(from: string, recipients: string[], raw: Buffer): ExtensionNeeds {
  const { headerEnd, bodyStart } = splitMessage(raw);
  return {
    utf8Address: nonAscii(from) || recipients.some(nonAscii),
    eightBitHeaders: has8bit(raw.subarray(0, headerEnd)),
    eightBitBody: has8bit(raw.subarray(bodyStart)),
  };
}

/**
 * relay.downgrade: the message with every 8-bit leaf part re-encoded as
 * quoted-printable (RFC 6152 section 3 allows the conversion), or null when
 * that is not possible: 8-bit inside a message/* part (which must stay 7bit or
 * 8bit, RFC 2046 5.2) or inside headers. A DKIM signature over the body does not
 * survive the conversion; the RFC accepts that cost over a bounce.
 */
export function downgradeTo7bit(raw: Buffer): Buffer | null {
  const out = downgradeEntity(raw.toString('latin1'));
  if (out === null) return null;
  const converted = Buffer.from(out, 'latin1');
  // The parts are found by CRLF boundaries: in a message with bare LF line breaks (the edge lets
  // none through, but a record may come from elsewhere) some 8-bit may be left: not converted.
  return has8bit(converted) ? null : converted;
}

function downgradeEntity(entity: string): string | null {
  // Where each part's header ends: libs/message's rule (latin1: one character per octet, so the offsets hold).
  const split = splitMessage(Buffer.from(entity, 'latin1'));
  const head = entity.slice(0, split.headerEnd);
  const body = entity.slice(split.bodyStart);
  if (has8bitStr(head)) return null;
  if (!has8bitStr(body)) return entity;
  const type = headerValue(head, 'content-type')?.toLowerCase() ?? 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headerValue(head, 'content-type') ?? '')?.[1];
    if (!boundary) return null;
    const delimiter = `\r\n--${boundary}`;
    const pieces = `\r\n${body}`.split(delimiter);
    // pieces[0] is the preamble, the last starts with "--" (the epilogue); both are left alone.
    for (let i = 1; i < pieces.length; i++) {
      if (pieces[i]!.startsWith('--')) break;
      const nl = pieces[i]!.indexOf('\r\n');
      if (nl < 0) return null;
      const part = downgradeEntity(pieces[i]!.slice(nl + 2));
      if (part === null) return null;
      pieces[i] = pieces[i]!.slice(0, nl + 2) + part;
    }
    if (has8bitStr(pieces[0]!) || has8bitStr(pieces.at(-1)!.startsWith('--') ? pieces.at(-1)! : '')) return null;
    return head + entity.slice(split.headerEnd, split.bodyStart) + pieces.join(delimiter).slice(2);
  }
  if (type.startsWith('message/')) return null;
  const cte = headerValue(head, 'content-transfer-encoding')?.trim().toLowerCase();
  if (cte && cte !== '8bit' && cte !== '7bit') return null; // binary or a broken label: not ours to guess
  const encoded = qpWrap(qpEncode(Buffer.from(body, 'latin1')), 76);
  const newHead = cte
    ? headerLines(Buffer.from(head, 'latin1'))
        .filter((f) => fieldName(f).toLowerCase() !== 'content-transfer-encoding')
        .join('')
    : head;
  return `${newHead}Content-Transfer-Encoding: quoted-printable\r\n\r\n${encoded}`;
}

const has8bitStr = (s: string) => /[\x80-\xff]/.test(s);

/** The first field called `name` of a part's header (7-bit: checked before), unfolded, trimmed. */
function headerValue(head: string, name: string): string | undefined {
  return fieldValues(Buffer.from(head, 'latin1'), name)[0]?.trim();
}
