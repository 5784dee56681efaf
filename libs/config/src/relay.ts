import { z } from 'zod';
import { Downstream } from './common.js';

const Relay = z.strictObject({
  /** Where mail for a domain without a downstream is written, one Maildir per recipient. */
  maildir: z.string().default('var/mail'),
  /** Outgoing mail (from authenticated users to other domains). Direct MX delivery is not built yet. */
  outbound: z.strictObject({ smarthost: Downstream }).optional(),
  maxConnectionsPerDestination: z.number().int().min(1).max(100).default(5),
  connectionTimeoutMs: z.number().int().min(1000).default(30000),
  /**
   * Delays between delivery attempts; the last one repeats. Each entry has its own retry topic (a
   * tier), so a record never waits behind one that is due later: at most 8 entries.
   */
  retryDelaysSeconds: z
    .array(z.number().min(0))
    .min(1)
    .max(8)
    .default([60, 300, 900, 1800, 3600, 4 * 3600]),
  /** Mail still undelivered this long after it was received is bounced (RFC 5321 4.5.4.1: 4-5 days). */
  maxAgeSeconds: z
    .number()
    .int()
    .min(1)
    .default(5 * 24 * 3600),
  /** A "delayed" DSN to the sender once delivery has been failing this long; 0: never. */
  delayNoticeAfterSeconds: z
    .number()
    .int()
    .min(0)
    .default(4 * 3600),
  /** Per destination, shared by every replica (in the state store). */
  circuit: z
    .strictObject({
      /** Connection-level failures in a row (refused, timeout, dropped, 421) that open the circuit. */
      failureThreshold: z.number().int().min(1).default(5),
      /** How long an open circuit holds all delivery to that destination before one probe is let through. */
      openSeconds: z.number().int().min(1).default(30),
    })
    .prefault({}),
});

const Quarantine = z.strictObject({
  /** How long quarantined mail is kept (the quarantine topic's retention and the index's expiry). */
  retentionDays: z.number().min(1).max(365).default(30),
  /** Most entries the index keeps; beyond it the oldest are no longer listed (still in the topic). */
  maxEntries: z.number().int().min(100).max(1_000_000).default(100_000),
  digest: z
    .strictObject({
      /** Domains whose recipients get a digest of what was quarantined for them (opt-in). */
      domains: z
        .array(
          z
            .string()
            .min(1)
            .transform((d) => d.toLowerCase()),
        )
        .default([]),
      intervalSeconds: z
        .number()
        .int()
        .min(60)
        .default(24 * 3600),
    })
    .prefault({}),
});

/** Delivery, retries, bounces and quarantine (relay service). */
export const relaySections = {
  relay: Relay.prefault({}),
  quarantine: Quarantine.prefault({}),
};
