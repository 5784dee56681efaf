import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { smtpError } from '@portcullis/smtp-replies';
import type { FlowControl } from '../connect/flow-control.js';
import type { CredentialBackend } from '../login/credential-source.js';
import type { ListenerContext, SmtpCallback } from '../session/listener-context.js';
import { checkMailFrom } from './sender-checks.js';

/** smtp-server's onMailFrom: session limits, then the sender checks, then the per-IP message rate. */
export function onMailFrom(deps: { ctx: ListenerContext; flow: FlowControl; credentials: CredentialBackend | null }) {
  const { ctx } = deps;
  return (address: SMTPServerAddress, session: SMTPServerSession, cb: SmtpCallback): void => {
    const limit = ctx.limits.mail(session.id, address);
    if (!limit.ok) return cb(smtpError(limit)); // a 421 makes smtp-server close
    const refusal = checkMailFrom(ctx.kind, session, address.address, { config: ctx.config, credentials: deps.credentials });
    if (refusal) {
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, from: address.address, code: refusal.code }, 'sender refused');
      return ctx.refuse(session, cb, refusal, 'MAIL', address.address);
    }
    deps.flow.onMailFrom(session.remoteAddress).then((f) => {
      if (f.action === 'allow') return cb();
      ctx.metrics.flowRefusals.inc({ listener: ctx.kind, rule: f.rule });
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, rule: f.rule, code: f.code }, 'sender refused by flow control');
      ctx.refuse(session, cb, f, 'MAIL', address.address);
    }, () => cb());
  };
}
