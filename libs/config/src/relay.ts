import { z } from 'zod';
import { Downstream } from './common.js';

const Relay = z.strictObject({
  /** Where mail for a domain without a downstream is written, one Maildir per recipient. */
  maildir: z.string().default('var/mail'),
  /** Outgoing mail (from authenticated users to other domains). Direct MX delivery is not built yet. */
  outbound: z.strictObject({ smarthost: Downstream }).optional(),
  maxConnectionsPerDestination: z.number().int().min(1).max(100).default(5),
  connectionTimeoutMs: z.number().int().min(1000).default(30000),
  /** Delays between delivery attempts; the last one repeats. */
  retryDelaysSeconds: z.array(z.number().min(0)).min(1).default([60, 300, 900, 1800, 3600]),
});

/** Delivery, retries, bounces, quarantine and the message trace (relay service). */
export const relaySections = {
  relay: Relay.default(Relay.parse({})),
};
