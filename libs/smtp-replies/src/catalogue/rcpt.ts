import type { TooLong } from '@portcullis/contract';
import { defineReply } from '../reply.js';
import { who, type Counted } from './client.js';

/** RCPT TO: accepted domains (no open relay), syntax, verification, limits. */

/** RFC 5321 4.5.3.1.10 "452 Too many recipients"; RFC 3463 X.5.3. */
export const tooMany = defineReply({
  id: 'rcpt.too-many',
  code: 452,
  enhanced: '4.5.3',
  text: (max: number) => `Too many recipients, at most ${max} per message`,
  example: [100],
  checks: 'checkRecipientCount',
});

export const badSyntax = defineReply({
  id: 'rcpt.bad-syntax',
  code: 553,
  enhanced: '5.1.3',
  text: (address: string) => `Recipient address <${address}> is not allowed here (routing characters or syntax)`,
  example: ['@relay.test:user@example.test'],
  checks: 'checkRecipient',
});

/** RFC 5321 4.5.3.1.10 "501 Path too long"; the address itself is not echoed (it may be longer than a reply line). */
export const tooLong = defineReply({
  id: 'rcpt.too-long',
  code: 501,
  enhanced: '5.1.3',
  text: (t: TooLong) => `Recipient address too long: ${t.limit} of ${t.octets} octets, at most ${t.max} (RFC 5321 4.5.3.1)`,
  example: [{ limit: 'local-part', octets: 70, max: 64 }],
  checks: 'checkRecipient',
});

export const relayDenied = defineReply({
  id: 'rcpt.relay-denied',
  code: 550,
  enhanced: '5.7.1',
  text: (address: string) => `Relay access denied for <${address}>`,
  example: ['user@other.test'],
  checks: 'checkRecipient',
});

export const noOutboundRoute = defineReply({
  id: 'rcpt.no-outbound-route',
  code: 550,
  enhanced: '5.7.1',
  text: (address: string) => `No route for outgoing mail to <${address}> (relay.outbound is not configured)`,
  example: ['user@other.test'],
  checks: 'checkRecipient',
});

export const rate = defineReply({
  id: 'rcpt.rate',
  code: 450,
  enhanced: '4.7.1',
  text: (client: Counted, limit: number) => `Too many recipients from ${who(client)} (limit ${limit} per minute), try again later`,
  example: [{ network: '192.0.2.0/24' }, 200],
  checks: 'FlowControl.onRcptTo',
});

/** The downstream said the mailbox does not exist (domains[].verifyRecipients). */
export const unknown = defineReply({
  id: 'rcpt.unknown',
  code: 550,
  enhanced: '5.1.1',
  text: (address: string) => `Recipient <${address}> does not exist here`,
  example: ['nobody@example.test'],
  checks: 'verifyReply',
});

/** The downstream could not say; RFC 3463 X.4.3 "directory server failure". */
export const cannotVerify = defineReply({
  id: 'rcpt.cannot-verify',
  code: 451,
  enhanced: '4.4.3',
  text: (address: string) => `Cannot verify <${address}> right now, try again later`,
  example: ['user@example.test'],
  checks: 'verifyReply',
});

/** The flow or verification check itself failed (threw). */
export const verificationFailed = defineReply({
  id: 'rcpt.verification-failed',
  code: 451,
  enhanced: '4.4.3',
  text: 'Recipient verification failed, try again later',
  checks: 'onRcptTo',
});
