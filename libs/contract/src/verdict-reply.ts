import { z } from 'zod';
import { MessageId, Verdict } from './record.js';

/** What a stage sends to the edge that holds the session, on the reply channel. */
export const VerdictReply = z.object({
  v: z.literal(1),
  id: MessageId,
  verdict: Verdict,
});
export type VerdictReply = z.infer<typeof VerdictReply>;
