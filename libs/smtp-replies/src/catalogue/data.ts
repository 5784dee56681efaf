import { defineReply } from '../reply.js';

/** DATA: size, header and line limits, smuggling defence, the durable write, submission's From. */

/**
 * The 250 at the end of DATA, for a delivered or quarantined message alike (telling a spammer
 * that a message was quarantined would tell him what works). The enhanced code is smtp-server's,
 * which it puts on every 250 to DATA, and what senders and our tests have always seen. RFC 3463
 * section 3.7 defines X.6.0 as "other or undefined media error"; 2.0.0 (section 3.1, "other
 * undefined status") would claim less. Changing it changes the wire for every accepted message,
 * so it is left to a decision of its own (issue 15's report).
 */
export const queued = defineReply({
  id: 'data.queued',
  code: 250,
  enhanced: '2.6.0',
  text: (messageId: string) => `Ok: queued as ${messageId}`,
  example: ['01JD3Q9Z8X7W6V5T4S3R2Q1P0N'],
  checks: ['onData', 'replyForVerdict'],
});

export const storeFailed = defineReply({
  id: 'data.store-failed',
  code: 451,
  enhanced: '4.3.0',
  text: (messageId: string) => `Temporary failure storing the message (${messageId}), try again later`,
  example: ['01JD3Q9Z8X7W6V5T4S3R2Q1P0N'],
  checks: 'acceptMessage',
});

export const localProblem = defineReply({
  id: 'data.local-problem',
  code: 451,
  enhanced: '4.3.0',
  text: 'Temporary local problem, try again later',
  checks: ['collectRefusal', 'onData'],
});

/** Ours, not smtp-server's "Error: message exceeds fixed maximum message size". RFC 3463 X.3.4. */
export const tooBig = defineReply({
  id: 'data.too-big',
  code: 552,
  enhanced: '5.3.4',
  text: (limit: number) => `Message exceeds the size limit of ${limit} octets`,
  example: [26214400],
  checks: ['collectRefusal', 'SessionLimits.checkMessageSize'],
});

/** RFC 1870 section 6.3 lets the server hold the client to its declared SIZE. */
export const overDeclaredSize = defineReply({
  id: 'data.over-declared-size',
  code: 552,
  enhanced: '5.3.4',
  text: (received: number, declared: number) => `Message of ${received} octets exceeds its declared SIZE=${declared}`,
  example: [20480, 10240],
  checks: 'SessionLimits.checkMessageSize',
});

export const headerTooBig = defineReply({
  id: 'data.header-too-big',
  code: 552,
  enhanced: '5.3.4',
  text: (limit: number) => `Message header section exceeds ${limit} octets`,
  example: [262144],
  checks: 'headerTooBig',
});

export const lineTooLong = defineReply({
  id: 'data.line-too-long',
  code: 550,
  enhanced: '5.6.0',
  text: (limit: number) => `Message has a line longer than ${limit} octets (RFC 5322 2.1.1)`,
  example: [998],
  checks: 'lineTooLong',
});

/** smtp.bareLineEndings: reject (the SMTP smuggling defence). */
export const bareLineEnding = defineReply({
  id: 'data.bare-line-ending',
  code: 550,
  enhanced: '5.6.0',
  text: 'Message contains a bare CR or LF or a NUL; lines must end with CRLF (RFC 5322 2.3)',
  checks: 'collectRefusal',
});

/** The edge's buffer budget for messages in flight is spent (RFC 3463 X.3.1 "mail system full"). */
export const memoryFull = defineReply({
  id: 'data.memory-full',
  code: 452,
  enhanced: '4.3.1',
  text: 'Insufficient system storage, try again later',
  checks: 'collectRefusal',
});

export const transferTime = defineReply({
  id: 'data.transfer-time',
  code: 421,
  enhanced: '4.4.2',
  text: 'Message transfer time limit reached, closing',
  checks: 'SessionLimits.onDataTimer',
});

/** Submission: the From header must name only addresses the authenticated user owns. */
export const fromNotOwned = defineReply({
  id: 'data.from-not-owned',
  code: 553,
  enhanced: '5.7.1',
  text: (address: string) => `From address <${address}> is not owned by the authenticated user`,
  example: ['ceo@example.test'],
  checks: 'checkFromOwnership',
});

export const fromMissing = defineReply({
  id: 'data.from-missing',
  code: 553,
  enhanced: '5.7.1',
  text: 'From header is missing',
  checks: 'checkFromOwnership',
});

export const fromSeveral = defineReply({
  id: 'data.from-several',
  code: 553,
  enhanced: '5.7.1',
  text: 'From header is given more than once',
  checks: 'checkFromOwnership',
});

export const fromMalformed = defineReply({
  id: 'data.from-malformed',
  code: 553,
  enhanced: '5.7.1',
  text: 'From header is malformed',
  checks: 'checkFromOwnership',
});
