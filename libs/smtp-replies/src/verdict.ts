import type { Verdict } from '@portcullis/contract';
import type { SmtpReply } from './reply.js';
import type { Refusal } from './refusal.js';
import { queued } from './catalogue/data.js';
import { reject, tempfail } from './catalogue/verdict.js';

/**
 * The one place that turns a pipeline verdict into the SMTP reply at the end of DATA. Reasons
 * come from our own checks and are meant for the sender; control characters are stripped by the
 * writer.
 */
export function replyForVerdict(verdict: Verdict, messageId: string): SmtpReply {
  switch (verdict.action) {
    case 'deliver':
    case 'quarantine':
      // A quarantined message was accepted: telling the sender would tell a spammer what works.
      return queued.reply(messageId);
    case 'reject':
      return withCode(reject.reply(verdict.reason, messageId), verdict.enhancedCode, 550);
    case 'tempfail':
      return withCode(tempfail.reply(verdict.reason, messageId), verdict.enhancedCode, 451);
  }
}

/** The refusal for a reject or tempfail verdict (its reason: the check that decided); null when it is accepted. */
export function refusalForVerdict(verdict: Verdict, messageId: string): Refusal | null {
  const reply = replyForVerdict(verdict, messageId);
  if (verdict.action === 'deliver' || verdict.action === 'quarantine') return null;
  const entry = verdict.action === 'reject' ? reject : tempfail;
  return { id: entry.id, reply, reason: verdict.decidedBy, disconnect: false };
}

function withCode(reply: SmtpReply, enhanced: string | undefined, fallback: 451 | 550): SmtpReply {
  if (!enhanced) return reply;
  return { ...reply, enhanced, code: basicCodeFor(enhanced, fallback) };
}

/**
 * The basic code that goes with an enhanced code at the end of DATA (RFC 5321 4.2.3,
 * RFC 3463): storage and size problems are 452/552 ("exceeded storage allocation"),
 * everything else the generic 451/550. The class always follows the enhanced code,
 * so a 4.x.x is never answered with a 5yz.
 */
function basicCodeFor(enhanced: string, fallback: 451 | 550): number {
  const [cls, subject, detail] = enhanced.split('.');
  const permanent = cls === '5';
  const storage = (subject === '3' && (detail === '1' || detail === '4')) || (subject === '2' && detail === '2');
  if (storage) return permanent ? 552 : 452;
  if (fallback === 550 && !permanent) return 451;
  if (fallback === 451 && permanent) return 550;
  return fallback;
}
