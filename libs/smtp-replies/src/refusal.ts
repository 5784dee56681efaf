import type { SmtpReply } from './reply.js';

/**
 * The one shape of a refusal in the edge: the reply to send, why (for logs, metrics and traces),
 * and whether the connection closes after it. Every check that refuses returns one; the SMTP
 * callbacks turn it into smtp-server's error with `smtpError`.
 */
export interface Refusal {
  /** The catalogue id of the reply ("rcpt.relay-denied", "verdict.reject"). */
  readonly id: string;
  readonly reply: SmtpReply;
  /** The rule or limit that refused ("perIp.connections", "lockout.banned"); the id when nothing finer. */
  readonly reason: string;
  /** Close the connection after the reply (every 421 does; smtp-server closes on 421 by itself). */
  readonly disconnect: boolean;
}

/** The same refusal with a finer reason, e.g. `because(connect.rate.refuse(...), 'perNetwork.connectionsPerMinute')`. */
export function because(refusal: Refusal, reason: string): Refusal {
  return { ...refusal, reason };
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

/** The error smtp-server's callbacks expect for a refusal (what `cb(refusalError(r))` sends is r.reply). */
export function refusalError(refusal: Refusal): SmtpError {
  return smtpError(refusal.reply);
}
