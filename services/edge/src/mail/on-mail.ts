import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { refusalError } from '@portcullis/smtp-replies';
import type { FlowControl } from '../connect/flow-control.js';
import type { CredentialBackend } from '../login/credential-source.js';
import type { ListenerContext, SmtpCallback } from '../session/listener-context.js';
import { checkMailFrom } from './sender-checks.js';

/** smtp-server's onMailFrom: session limits, then the sender checks, then the per-IP message rate. */
export function onMailFrom(deps: { ctx: ListenerContext; flow: FlowControl; credentials: CredentialBackend | null }) {
  const { ctx } = deps;
  return (address: SMTPServerAddress, session: SMTPServerSession, cb: SmtpCallback): void => {
    const limit = ctx.limits.mail(session.id, address);
    if (!limit.ok) return cb(refusalError(limit.refusal)); // a 421 makes smtp-server close
    const refusal = checkMailFrom(ctx.kind, session, address.address, { config: ctx.config, credentials: deps.credentials });
    if (refusal) {
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, from: address.address, code: refusal.reply.code }, 'sender refused');
      return ctx.refuse(session, cb, refusal, 'MAIL', address.address);
    }
    deps.flow.onMailFrom(session.remoteAddress).then(
      (f) => {
        if (f.action === 'allow') return cb();
        ctx.metrics.flowRefusals.inc({ listener: ctx.kind, rule: f.refusal.reason });
        ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, rule: f.refusal.reason, code: f.refusal.reply.code }, 'sender refused by flow control');
        ctx.refuse(session, cb, f.refusal, 'MAIL', address.address);
      },
      () => cb(),
    );
  };
}
