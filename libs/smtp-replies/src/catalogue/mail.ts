import { defineReply } from '../reply.js';
import { who, type Counted } from './client.js';

/** MAIL FROM. */

export const senderNotOwned = defineReply({
  id: 'mail.sender-not-owned',
  code: 553,
  enhanced: '5.7.1',
  text: (address: string) => `Sender address <${address}> is not owned by the authenticated user`,
  example: ['ceo@example.test'],
  checks: 'checkMailFrom',
});

/** smtp.requireTls: RFC 3207 section 4 gives the 530 and its wording. */
export const tlsRequired = defineReply({
  id: 'mail.tls-required',
  code: 530,
  enhanced: '5.7.0',
  text: 'Must issue a STARTTLS command first (TLS is required for this sender)',
  checks: 'checkMailFrom',
});

export const rate = defineReply({
  id: 'mail.rate',
  code: 450,
  enhanced: '4.7.1',
  text: (client: Counted, limit: number) => `Too many messages from ${who(client)} (limit ${limit} per minute), try again later`,
  example: [{ ip: '192.0.2.10' }, 60],
  checks: 'FlowControl.onMailFrom',
});

export const tooManyMessages = defineReply({
  id: 'mail.too-many-messages',
  code: 421,
  enhanced: '4.7.0',
  text: (max: number) => `Too many messages in one connection (at most ${max}), reconnect to send more`,
  example: [100],
  checks: 'SessionLimits.mail',
});

/** RFC 1870 section 6.1: a declared SIZE over the fixed maximum is refused at MAIL. */
export const sizeDeclared = defineReply({
  id: 'mail.size-declared',
  code: 552,
  enhanced: '5.3.4',
  text: (declared: number, limit: number) => `Declared message size ${declared} exceeds the fixed maximum message size of ${limit} octets`,
  example: [52428800, 26214400],
  checks: 'SessionLimits.mail',
});
