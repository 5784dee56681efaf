import type { TooLong } from '@portcullis/contract';
import type { SmtpReply } from './reply.js';
import { connect, data, rcpt } from './catalogue/index.js';

/**
 * @deprecated The catalogue's entries replace this: `data.queued.reply(id)`, `rcpt.relayDenied.refuse(addr)`.
 * Kept, as thin aliases onto the entries, until the edge no longer uses it.
 */
export const Replies = {
  queued: (id: string): SmtpReply => data.queued.reply(id),
  storeFailed: (id: string): SmtpReply => data.storeFailed.reply(id),
  stateUnavailable: (): SmtpReply => data.localProblem.reply(),
  tooBig: (limit: number): SmtpReply => data.tooBig.reply(limit),
  bareLineEnding: (): SmtpReply => data.bareLineEnding.reply(),
  memoryFull: (): SmtpReply => data.memoryFull.reply(),
  relayDenied: (address: string): SmtpReply => rcpt.relayDenied.reply(address),
  badRecipientSyntax: (address: string): SmtpReply => rcpt.badSyntax.reply(address),
  recipientTooLong: (t: TooLong): SmtpReply => rcpt.tooLong.reply(t),
  noOutboundRoute: (address: string): SmtpReply => rcpt.noOutboundRoute.reply(address),
  tooManyRecipients: (max: number): SmtpReply => rcpt.tooMany.reply(max),
  shuttingDown: (): SmtpReply => connect.shuttingDown.reply(),
} as const;
