import { z } from 'zod';

/** 26 characters of Crockford base32: 48 bits of time, 80 bits of randomness. */
export const MessageId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'not a message id');

export const Tls = z.object({
  version: z.string(),
  cipher: z.string(),
  sni: z.string().optional(),
});

export const Envelope = z.object({
  /** Which listener took the message. */
  listener: z.enum(['mx', 'submission', 'submissions']),
  client: z.object({
    ip: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** Reverse DNS name, when one was looked up and confirmed. */
    hostname: z.string().optional(),
  }),
  helo: z.string(),
  tls: Tls.nullable(),
  /** The authenticated identity, null for unauthenticated (MX) sessions. */
  auth: z.object({ user: z.string().min(1), mechanism: z.string() }).nullable(),
  /** Reverse-path; the empty string is the null sender (<>). */
  mailFrom: z.string(),
  /** ESMTP parameters of MAIL FROM that matter downstream. */
  body: z.enum(['7BIT', '8BITMIME', 'BINARYMIME']).default('7BIT'),
  smtputf8: z.boolean().default(false),
  rcptTo: z.array(z.string().min(3)).min(1),
  receivedAt: z.iso.datetime(),
});
export type Envelope = z.infer<typeof Envelope>;

/** What one check found. Checks never throw: they record an outcome. */
export const CheckResult = z.object({
  /** The stage that ran the check: connect, helo, mail, rcpt, data, auth, reputation, content, relay. */
  stage: z.string().min(1),
  /** stage.check style name, e.g. "auth.spf". */
  check: z.string().min(1),
  outcome: z.enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'skip', 'error', 'info']),
  /** Contribution to the spam score; 0 when the check does not score. */
  score: z.number().default(0),
  reason: z.string(),
  /**
   * What the check demands of the verdict beyond its score, when policy says so (a DMARC
   * p=reject failure, a virus, a blocked sender, a scanner that is down). The verdict takes
   * the strongest demand; `reason` then becomes the reply text, so it must be safe to show.
   */
  action: z.enum(['reject', 'quarantine', 'tempfail']).optional(),
  /** RFC 3463 code for that demand, e.g. 5.7.1 for a policy reject, 4.4.3 for a DNS failure. */
  enhancedCode: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .optional(),
  at: z.iso.datetime(),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const VerdictAction = z.enum(['deliver', 'quarantine', 'reject', 'tempfail']);
export type VerdictAction = z.infer<typeof VerdictAction>;

export const Verdict = z.object({
  action: VerdictAction,
  /** Human-readable reason, safe to show to the sender. */
  reason: z.string(),
  /** RFC 3463 enhanced status code to use when the action is reject or tempfail. */
  enhancedCode: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .optional(),
  score: z.number().default(0),
  decidedBy: z.string(),
  at: z.iso.datetime(),
});
export type Verdict = z.infer<typeof Verdict>;

/** How the edge can be told the verdict while the client waits. */
export const ReplyTo = z.object({
  /** Channel of the edge instance that holds the session. */
  channel: z.string().min(1),
  /** After this instant the edge has answered 250 and stopped waiting. */
  deadline: z.iso.datetime(),
});

export const Delivery = z.object({
  /** Attempts made so far; 0 while a record only waits for the edge's answer. */
  attempt: z.number().int().min(0),
  firstAttemptAt: z.iso.datetime(),
  notBefore: z.iso.datetime(),
  /** Recipients still to be delivered; a subset of envelope.rcptTo. */
  pending: z.array(z.string()).min(1),
  lastError: z.string().optional(),
  /** Set once the sender was sent a "delayed" DSN, so it is sent once. */
  delayNotified: z.boolean().optional(),
});

export const FailedRecipient = z.object({
  recipient: z.string(),
  code: z.number().int().optional(),
  response: z.string(),
  at: z.iso.datetime(),
});

/** Everything on a mail topic except the raw message, which travels beside it. */
export const MailMeta = z.object({
  v: z.literal(1),
  id: MessageId,
  /** Octets of the raw message (with the edge's headers). */
  size: z.number().int().min(0),
  envelope: Envelope,
  replyTo: ReplyTo.optional(),
  results: z.array(CheckResult).default([]),
  verdict: Verdict.optional(),
  delivery: Delivery.optional(),
  failures: z.array(FailedRecipient).optional(),
});
export type MailMeta = z.infer<typeof MailMeta>;
export type MailMetaInput = z.input<typeof MailMeta>;

/** A record on a mail topic: its metadata and the message octets. */
export interface MailRecord {
  meta: MailMeta;
  raw: Buffer;
}
