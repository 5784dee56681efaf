import type { SMTPServerSession } from 'smtp-server';
import { connect, refusalError, type Refusal } from '@portcullis/smtp-replies';
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
    if (deps.stopping()) return cb(refusalError(connect.shuttingDown.refuse()));
    ctx.metrics.sessions.inc({ listener: ctx.kind });
    ctx.clients.set(session.id, session.remoteAddress);
    firstConnectRefusal(deps, session).then(
      (refusal) => {
        if (!refusal) return cb();
        ctx.metrics.flowRefusals.inc({ listener: ctx.kind, rule: refusal.reason });
        ctx.log.info({ listener: ctx.kind, client: session.remoteAddress, rule: refusal.reason, code: refusal.reply.code }, 'connection refused');
        traceRefusal('CONNECT', session, refusal.reply, refusal.reason);
        ctx.recordRefusal('CONNECT', session, refusal.reply, undefined, refusal.reason);
        cb(refusalError(refusal));
      },
      () => cb(),
    );
  };
}

/** connect.flow, then connect.ban, then connect.dnsbl (after the free checks, since it costs look-ups). */
async function firstConnectRefusal(deps: ConnectDeps, session: SMTPServerSession): Promise<Refusal | null> {
  const flow = await deps.flow.onConnect(session.remoteAddress, session.id);
  if (flow.action === 'refuse') return flow.refusal;
  const ban = await deps.lockout.checkConnect(session.remoteAddress);
  if (ban.action === 'refuse') return ban.refusal;
  const dnsbl = await deps.dnsbl.onConnect(session.remoteAddress, session.id);
  if (dnsbl.action === 'tarpit') await new Promise((resolve) => setTimeout(resolve, dnsbl.delayMs));
  return dnsbl.action === 'refuse' ? dnsbl.refusal : null;
}
