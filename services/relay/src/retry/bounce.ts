import type { Config } from '@portcullis/config';
import type { MailRecord } from '@portcullis/contract';
import { fieldValueOctets, headerSection } from '@portcullis/message';
import { ownMessageRecord } from '../delivery/own-message.js';
import { buildDsn, returnedHeaders, type DsnRecipient } from './dsn.js';

/**
 * relay.bounce: the DSN for recipients that failed (or are delayed), as a new
 * message to the envelope sender, or null when there must be none: never to
 * the null sender (a bounce of a bounce loops), and the relay only calls this
 * for mail the edge accepted (mail refused in session was answered there).
 *
 * The DSN goes out like any other message: it is published to the decided
 * topic and the relay delivers it by the normal route (a local domain's
 * mailbox server, else relay.outbound.smarthost, else the Maildir), with the
 * same retries, de-duplication and trace. Its own sender is <>.
 */
export function bounceRecord(config: Config, original: MailRecord, recipients: DsnRecipient[], now = new Date()): MailRecord | null {
  const sender = original.meta.envelope.mailFrom;
  if (!sender || recipients.length === 0) return null;
  const raw = buildDsn({
    reportingMta: config.hostname,
    to: sender,
    arrivalDate: new Date(original.meta.envelope.receivedAt),
    originalHeaders: returnedHeaders(original.raw),
    recipients,
    now,
    ...(messageIdOf(original.raw) ? { originalMessageId: messageIdOf(original.raw)! } : {}),
  });
  return ownMessageRecord(
    config,
    raw,
    { rcpt: sender, smtputf8: /[^\x00-\x7f]/.test(sender) },
    { reason: `delivery status notification for ${original.meta.id}`, check: 'relay.bounce' },
    now,
  );
}

/** The Message-ID header's value without brackets, if the message has one. */
export function messageIdOf(raw: Buffer): string | undefined {
  const value = fieldValueOctets(headerSection(raw), 'message-id')[0]?.toString('latin1');
  return value === undefined ? undefined : /^[ \t]*<?([^>\r\n]+)>?/.exec(value)?.[1]?.trim();
}

/** The Subject header (unfolded; octets that are not UTF-8 shown as U+FFFD, the field kept), if any. */
export function subjectOf(raw: Buffer): string | undefined {
  return fieldValueOctets(headerSection(raw), 'subject')[0]?.toString('utf8').trim().slice(0, 300);
}
