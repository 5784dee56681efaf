import type { MailMeta } from '@portcullis/contract';
import type { RecipientOutcome } from './smtp-delivery.js';

/**
 * relay.retry: the record for the next attempt, holding only the recipients
 * that failed temporarily, or null when none did. Delays follow the configured
 * schedule; the last delay repeats. (Giving up after a maximum age, with a
 * bounce, belongs to the delivery issue; until then mail is never dropped.)
 */
export function nextAttempt(
  meta: MailMeta & { verdict: NonNullable<MailMeta['verdict']> },
  results: RecipientOutcome[],
  delaysSeconds: number[],
  now: Date = new Date(),
): { meta: MailMeta; notBefore: number } | null {
  const temporary = results.filter((r) => r.status === 'temporary');
  if (temporary.length === 0) return null;
  const attempt = (meta.delivery?.attempt ?? 0) + 1;
  const delay = delaysSeconds[Math.min(attempt - 1, delaysSeconds.length - 1)]! * 1000;
  const notBefore = now.getTime() + delay;
  const last = temporary[0]!;
  return {
    notBefore,
    meta: {
      ...meta,
      delivery: {
        attempt,
        firstAttemptAt: meta.delivery?.firstAttemptAt ?? now.toISOString(),
        notBefore: new Date(notBefore).toISOString(),
        pending: temporary.map((t) => t.recipient),
        lastError: last.response,
      },
    },
  };
}
