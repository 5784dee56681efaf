import type { TooLong, Verdict } from '@portcullis/contract';

/** An SMTP reply: basic code (RFC 5321), enhanced status code (RFC 3463), text. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

export type SmtpError = Error & { responseCode: number; enhanced: string };

/**
 * An error for smtp-server's callbacks. The text starts with the enhanced code;
 * the edge's reply writer moves it into place (smtp-server on its own would put
 * a fixed code per basic code, e.g. 5.1.1 "bad mailbox" on every 550).
 */
export function smtpError(reply: SmtpReply): SmtpError {
  const err = new Error(`${reply.enhanced} ${reply.text}`) as SmtpError;
  err.responseCode = reply.code;
  err.enhanced = reply.enhanced;
  return err;
}

export function formatReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced} ${reply.text}`;
}

/** The replies the edge gives itself; one place so the wording stays consistent. */
export const Replies = {
  queued: (id: string): SmtpReply => ({ code: 250, enhanced: '2.0.0', text: `Ok: queued as ${id}` }),
  storeFailed: (id: string): SmtpReply => ({
    code: 451,
    enhanced: '4.3.0',
    text: `Temporary failure storing the message (${id}), try again later`,
  }),
  stateUnavailable: (): SmtpReply => ({ code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' }),
  tooBig: (limit: number): SmtpReply => ({ code: 552, enhanced: '5.3.4', text: `Message exceeds the size limit of ${limit} octets` }),
  bareLineEnding: (): SmtpReply => ({
    code: 550,
    enhanced: '5.6.0',
    text: 'Message contains a bare CR or LF or a NUL; lines must end with CRLF (RFC 5322 2.3)',
  }),
  memoryFull: (): SmtpReply => ({ code: 452, enhanced: '4.3.1', text: 'Insufficient system storage, try again later' }),
  relayDenied: (rcpt: string): SmtpReply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `Relay access denied for <${rcpt}>`,
  }),
  badRecipientSyntax: (rcpt: string): SmtpReply => ({
    code: 553,
    enhanced: '5.1.3',
    text: `Recipient address <${rcpt}> is not allowed here (routing characters or syntax)`,
  }),
  /** RFC 5321 4.5.3.1.10 "501 Path too long"; the address itself is not echoed (it may be longer than a reply line). */
  recipientTooLong: (t: TooLong): SmtpReply => ({
    code: 501,
    enhanced: '5.1.3',
    text: `Recipient address too long: ${t.limit} of ${t.octets} octets, at most ${t.max} (RFC 5321 4.5.3.1)`,
  }),
  noOutboundRoute: (rcpt: string): SmtpReply => ({
    code: 550,
    enhanced: '5.7.1',
    text: `No route for outgoing mail to <${rcpt}> (relay.outbound is not configured)`,
  }),
  tooManyRecipients: (limit: number): SmtpReply => ({ code: 452, enhanced: '4.5.3', text: `Too many recipients, at most ${limit} per message` }),
  shuttingDown: (): SmtpReply => ({ code: 421, enhanced: '4.3.2', text: 'Service shutting down, try again later' }),
} as const;

/**
 * The reply for a pipeline verdict. Reasons come from our own checks and are
 * meant for the sender; control characters are stripped by the writer.
 */
export function replyForVerdict(verdict: Verdict, messageId: string): SmtpReply {
  switch (verdict.action) {
    case 'deliver':
    case 'quarantine':
      // A quarantined message was accepted: telling the sender would tell a spammer what works.
      return Replies.queued(messageId);
    case 'reject': {
      const enhanced = verdict.enhancedCode ?? '5.7.1';
      return { code: basicCodeFor(enhanced, 550), enhanced, text: `Rejected: ${verdict.reason} (${messageId})` };
    }
    case 'tempfail': {
      const enhanced = verdict.enhancedCode ?? '4.7.1';
      return { code: basicCodeFor(enhanced, 451), enhanced, text: `Try again later: ${verdict.reason} (${messageId})` };
    }
  }
}

/**
 * The basic code that goes with an enhanced code at the end of DATA (RFC 5321 4.2.3,
 * RFC 3463): storage and size problems are 452/552 ("exceeded storage allocation"),
 * everything else the generic 451/550. The class always follows the enhanced code,
 * so a 4.x.x is never answered with a 5yz.
 */
function basicCodeFor(enhanced: string, fallback: 451 | 550): number {
  const [cls, subject, detail] = enhanced.split('.');
  const permanent = cls === '5';
  const storage = (subject === '3' && (detail === '1' || detail === '4')) || (subject === '2' && detail === '2');
  if (storage) return permanent ? 552 : 452;
  if (fallback === 550 && !permanent) return 451;
  if (fallback === 451 && permanent) return 550;
  return fallback;
}
