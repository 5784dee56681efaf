import { randomBytes } from 'node:crypto';
import { headerSection } from '@portcullis/message';

/** One recipient's part of a delivery status notification (RFC 3464 section 2.3). */
export interface DsnRecipient {
  recipient: string;
  action: 'failed' | 'delayed';
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** The server's reply, or why we gave up. */
  diagnostic: string;
  remoteMta?: string;
}

export interface DsnInput {
  reportingMta: string;
  to: string;
  arrivalDate: Date;
  /** The returned message's header section (RFC 3462 text/rfc822-headers). */
  originalHeaders: Buffer;
  recipients: DsnRecipient[];
  now: Date;
  /** The original Message-ID, for In-Reply-To/References. */
  originalMessageId?: string;
}

/** The enhanced status code inside an SMTP reply, else a default for its class. */
export function statusOf(reply: string, fallback: string): string {
  return /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? fallback;
}

/** DSN fields are ASCII lines: anything else (and line breaks a server put in its reply) is replaced. */
const field = (s: string) =>
  s
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 900);

/** RFC 6533 3: a non-ASCII address in message/delivery-status as utf-8-addr-xtext (\x{HEX} escapes). */
const addressField = (a: string) =>
  /[^\x20-\x7e]/.test(a)
    ? `utf-8; ${[...a.replace(/[\r\n]/g, '')].map((c) => (/[\x21-\x7e]/.test(c) && c !== '\\' && c !== '+' && c !== '=' ? c : `\\x{${c.codePointAt(0)!.toString(16).toUpperCase()}}`)).join('')}`
    : `rfc822; ${a}`;

const isAscii = (b: Buffer) => !b.some((c) => c > 0x7e || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d));

/**
 * relay.dsn: a delivery status notification as RFC 3464 has it: a
 * multipart/report of a human-readable part, the machine-readable
 * message/delivery-status and the returned message's headers (not its body:
 * the sender has it, and a bounce should not carry a virus back). Lines end in
 * CRLF and every part is 7-bit, so any server takes it.
 */
export function buildDsn(input: DsnInput): Buffer {
  const boundary = `=_portcullis_${randomBytes(12).toString('hex')}`;
  const failed = input.recipients.some((r) => r.action === 'failed');
  const subject = failed ? 'Undelivered Mail Returned to Sender' : 'Delivery Status Notification (Delay)';
  const human = failed
    ? 'This is the mail gateway at ' +
      field(input.reportingMta) +
      '.\r\n\r\nYour message could not be delivered to one or more recipients. It has not been delivered and will not be tried again.\r\n'
    : 'This is the mail gateway at ' +
      field(input.reportingMta) +
      '.\r\n\r\nYour message has not been delivered yet to one or more recipients. Delivery is still being tried; you do not need to send it again.\r\n';
  const lines = input.recipients.map((r) => `  <${field(r.recipient)}>: ${field(r.diagnostic)}`).join('\r\n');
  const perRecipient = input.recipients
    .map((r) =>
      [
        `Final-Recipient: ${addressField(r.recipient)}`,
        `Action: ${r.action}`,
        `Status: ${r.status}`,
        ...(r.remoteMta ? [`Remote-MTA: dns; ${field(r.remoteMta)}`] : []),
        `Diagnostic-Code: smtp; ${field(r.diagnostic)}`,
        `Last-Attempt-Date: ${input.now.toUTCString().replace('GMT', '+0000')}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const normalised = input.originalHeaders.toString('latin1').replace(/\r?\n/g, '\r\n');
  // The block ends in exactly one CRLF. By index, not /(\r\n)*$/ (retried at every CRLF of a run).
  let end = normalised.length;
  while (end >= 2 && normalised.endsWith('\r\n', end)) end -= 2;
  const headers = `${normalised.slice(0, end)}\r\n`;
  const headersPart = isAscii(input.originalHeaders)
    ? `Content-Type: text/rfc822-headers\r\n\r\n${headers}`
    : `Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(headers, 'latin1').toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`;
  const ref = input.originalMessageId ? `In-Reply-To: <${field(input.originalMessageId)}>\r\nReferences: <${field(input.originalMessageId)}>\r\n` : '';
  const text =
    `From: Mail Delivery System <MAILER-DAEMON@${field(input.reportingMta)}>\r\n` +
    `To: <${field(input.to)}>\r\n` +
    `Subject: ${subject}\r\n` +
    `Date: ${input.now.toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: <${randomBytes(12).toString('hex')}@${field(input.reportingMta)}>\r\n` +
    ref +
    'Auto-Submitted: auto-replied\r\n' +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${human}\r\n${lines}\r\n\r\n` +
    `--${boundary}\r\nContent-Type: message/delivery-status\r\n\r\n` +
    `Reporting-MTA: dns; ${field(input.reportingMta)}\r\nArrival-Date: ${input.arrivalDate.toUTCString().replace('GMT', '+0000')}\r\n\r\n${perRecipient}\r\n\r\n` +
    `--${boundary}\r\n${headersPart}\r\n--${boundary}--\r\n`;
  return Buffer.from(text, 'latin1');
}

/**
 * The headers a DSN returns (RFC 3462 text/rfc822-headers): the message's header section by
 * libs/message's split (so a bare-LF message returns its header, not its body), capped.
 */
export function returnedHeaders(raw: Buffer, max = 64 * 1024): Buffer {
  return headerSection(raw).subarray(0, max);
}
