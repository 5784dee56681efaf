import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { rcpt, refusalError, type Refusal } from '@portcullis/smtp-replies';
import type { FlowControl } from '../connect/flow-control.js';
import type { ListenerContext, SmtpCallback } from '../session/listener-context.js';
import { checkRecipient, type RecipientPolicy } from './recipient-checks.js';

export interface RcptDeps {
  ctx: ListenerContext;
  flow: FlowControl;
  policy: RecipientPolicy;
  /** rcpt.verify for the domains that ask for it (recipient-verify.ts). */
  verify: (address: string) => Promise<Refusal | null>;
}

/**
 * smtp-server's onRcptTo: the recipient count, the address itself (recipient-checks.ts), then, for
 * our own domains only, the per-IP recipient rate and recipient verification.
 */
export function onRcptTo(deps: RcptDeps) {
  const { ctx } = deps;
  return (address: SMTPServerAddress, session: SMTPServerSession, cb: SmtpCallback): void => {
    const tooMany = checkRecipientCount(session, ctx.config.smtp.maxRecipients);
    if (tooMany) {
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind }, 'too many recipients');
      return ctx.refuse(session, cb, tooMany, 'RCPT', address.address);
    }
    const authenticated = ctx.kind !== 'mx' && Boolean(session.user);
    const check = checkRecipient(address.address, { authenticated, smtputf8: smtputf8Of(session) }, deps.policy);
    if (!check.ok) {
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, rcpt: address.address, code: check.refusal.reply.code }, 'recipient refused');
      return ctx.refuse(session, cb, check.refusal, 'RCPT', address.address);
    }
    // The stored form from here on (smtp-server keeps this object in the envelope).
    address.address = check.address;
    // Authenticated mail to other domains goes out: nothing of ours to verify.
    if (!check.ours) return cb();
    ourRecipientRefusal(deps, check.address, authenticated, session.remoteAddress).then(
      (refusal) => {
        if (!refusal) return cb();
        ctx.log.info({ client: session.remoteAddress, rcpt: address.address, code: refusal.reply.code, rule: refusal.reason }, 'recipient refused');
        ctx.refuse(session, cb, refusal, 'RCPT', address.address);
      },
      () => cb(refusalError(rcpt.verificationFailed.refuse())),
    );
  };
}

/** rcpt.count: smtp.maxRecipients per message. */
function checkRecipientCount(session: SMTPServerSession, maxRecipients: number): Refusal | null {
  return session.envelope.rcptTo.length >= maxRecipients ? rcpt.tooMany.refuse(maxRecipients) : null;
}

/** MAIL FROM carried SMTPUTF8 (RFC 6531). */
function smtputf8Of(session: SMTPServerSession): boolean {
  const from = session.envelope.mailFrom as SMTPServerAddress | false;
  return Boolean(from && (from.args as Record<string, unknown> | false) && (from.args as Record<string, unknown>).SMTPUTF8);
}

/**
 * connect.flow's recipient rate, then rcpt.verify. Authenticated users are not held to the per-IP
 * recipient rate; our recipients are verified whoever sends.
 */
async function ourRecipientRefusal(deps: RcptDeps, address: string, authenticated: boolean, client: string): Promise<Refusal | null> {
  if (!authenticated) {
    const f = await deps.flow.onRcptTo(client);
    if (f.action === 'refuse') {
      deps.ctx.metrics.flowRefusals.inc({ listener: deps.ctx.kind, rule: f.refusal.reason });
      return f.refusal;
    }
  }
  return deps.verify(address);
}
