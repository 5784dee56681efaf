import { z } from 'zod';

/**
 * The message trace (libs/message-trace): written by every service (the edge's refusals, the
 * stages' give-ups, the relay's deliveries), read by the admin API. No one service owns it.
 */
const MessageTrace = z.strictObject({
  enabled: z.boolean().default(true),
  /** How long a message's timeline and index entries are kept. */
  retentionDays: z.number().min(0.01).max(90).default(7),
  /** Events kept per message (the oldest beyond this are dropped). */
  maxEventsPerMessage: z.number().int().min(10).max(10_000).default(200),
  /** Entries kept per index list (per sender, recipient, client IP, Message-ID, hour). */
  maxIndexEntries: z.number().int().min(10).max(1_000_000).default(10_000),
});

export const messageTraceSections = {
  messageTrace: MessageTrace.prefault({}),
};
