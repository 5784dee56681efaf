import { RetryTierTopics, type MailMeta, type RetryTierTopic } from '@portcullis/contract';
import type { RecipientOutcome } from '../delivery/smtp-delivery.js';

type Decided = MailMeta & { verdict: NonNullable<MailMeta['verdict']> };

/**
 * relay.retry: the record for the next attempt, holding only the recipients
 * that failed temporarily, or null when none did. Delays follow the configured
 * schedule; the last delay repeats. Attempt n goes to retry tier n-1 (capped at
 * the last), whose records all wait the same delay.
 */
export function nextAttempt(
  meta: Decided,
  results: RecipientOutcome[],
  delaysSeconds: number[],
  now: Date = new Date(),
  extra: { delayNotified?: boolean } = {},
): { meta: MailMeta; notBefore: number; topic: RetryTierTopic } | null {
  const temporary = results.filter((r) => r.status === 'temporary');
  if (temporary.length === 0) return null;
  // Recipients held by an open circuit were not tried: that does not count as an attempt.
  const attempt = (meta.delivery?.attempt ?? 0) + (temporary.every((t) => t.status === 'temporary' && t.circuitOpen) ? 0 : 1);
  const tier = Math.max(0, Math.min(attempt - 1, delaysSeconds.length - 1, RetryTierTopics.length - 1));
  const notBefore = now.getTime() + delaysSeconds[tier]! * 1000;
  const last = temporary[0]!;
  const delayNotified = extra.delayNotified ?? meta.delivery?.delayNotified;
  return {
    notBefore,
    topic: RetryTierTopics[tier]!,
    meta: {
      ...meta,
      delivery: {
        attempt,
        firstAttemptAt: meta.delivery?.firstAttemptAt ?? now.toISOString(),
        notBefore: new Date(notBefore).toISOString(),
        pending: temporary.map((t) => t.recipient),
        lastError: last.response,
        ...(delayNotified ? { delayNotified: true } : {}),
      },
    },
  };
}

/** Seconds since the edge accepted the message. */
export function ageSeconds(meta: MailMeta, now: Date = new Date()): number {
  return (now.getTime() - Date.parse(meta.envelope.receivedAt)) / 1000;
}

/** What becomes of recipients that failed temporarily: try again, or give up (bounce) past the maximum age. */
export function temporaryFate(meta: MailMeta, opts: { maxAgeSeconds: number; delayNoticeAfterSeconds: number }, now: Date = new Date()): { giveUp: boolean; delayNotice: boolean } {
  const age = ageSeconds(meta, now);
  if (age >= opts.maxAgeSeconds) return { giveUp: true, delayNotice: false };
  const delayNotice = opts.delayNoticeAfterSeconds > 0 && age >= opts.delayNoticeAfterSeconds && !meta.delivery?.delayNotified;
  return { giveUp: false, delayNotice };
}
