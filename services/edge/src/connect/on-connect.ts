import type { SMTPServerSession } from 'smtp-server';
import { Replies, smtpError } from '@portcullis/smtp-replies';
import type { LoginLockout } from '../login/lockout.js';
import type { ListenerContext, SmtpCallback } from '../session/listener-context.js';
import { traceRefusal } from '../session/refusal-trace.js';
import type { ConnectDnsbl } from './dnsbl.js';
import type { FlowControl } from './flow-control.js';

export interface ConnectDeps {
  ctx: ListenerContext;
  flow: FlowControl;
  lockout: LoginLockout;
  dnsbl: ConnectDnsbl;
  /** The edge is shutting down: new sessions are turned away. */
  stopping: () => boolean;
}

/** smtp-server's onConnect: the cheapest refusals, before the greeting. */
export function onConnect(deps: ConnectDeps) {
  const { ctx } = deps;
  return (session: SMTPServerSession, cb: SmtpCallback): void => {
    if (deps.stopping()) return cb(smtpError(Replies.shuttingDown()));
    ctx.metrics.sessions.inc({ listener: ctx.kind });
    ctx.clients.set(session.id, session.remoteAddress);
    firstConnectRefusal(deps, session).then(
      (refusal) => {
        if (!refusal) return cb();
        ctx.metrics.flowRefusals.inc({ listener: ctx.kind, rule: refusal.rule });
        ctx.log.info({ listener: ctx.kind, client: session.remoteAddress, rule: refusal.rule, code: refusal.code }, 'connection refused');
        traceRefusal('CONNECT', session, refusal, refusal.rule);
        ctx.recordRefusal('CONNECT', session, refusal, undefined, refusal.rule);
        cb(smtpError(refusal));
      },
      () => cb(),
    );
  };
}

/** connect.flow, then connect.ban, then connect.dnsbl (after the free checks, since it costs look-ups). */
async function firstConnectRefusal(deps: ConnectDeps, session: SMTPServerSession) {
  const flow = await deps.flow.onConnect(session.remoteAddress, session.id);
  if (flow.action === 'refuse') return flow;
  const ban = await deps.lockout.checkConnect(session.remoteAddress);
  if (ban.action === 'refuse') return ban;
  const dnsbl = await deps.dnsbl.onConnect(session.remoteAddress, session.id);
  if (dnsbl.action === 'tarpit') await new Promise((resolve) => setTimeout(resolve, dnsbl.delayMs));
  return dnsbl.action === 'refuse' ? dnsbl : null;
}
