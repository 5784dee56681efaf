import { z } from 'zod';
import { MessageId, Verdict } from './record.js';

/**
 * What a stage sends to the edge that holds the session, on the reply channel. A message between
 * services, without SMTP text: the reply the client reads is made from the verdict by
 * replyForVerdict in @portcullis/smtp-replies (which depends on this package, never the reverse).
 */
export const VerdictReply = z.object({
  v: z.literal(1),
  id: MessageId,
  verdict: Verdict,
});
export type VerdictReply = z.infer<typeof VerdictReply>;
