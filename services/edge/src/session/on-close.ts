import type { SMTPServerSession } from 'smtp-server';
import type { ConnectDnsbl } from '../connect/dnsbl.js';
import type { FlowControl } from '../connect/flow-control.js';
import type { ListenerContext } from './listener-context.js';

/** smtp-server's onClose: forgets what each check kept for the session and gives its flow slot back. */
export function onClose(deps: { ctx: ListenerContext; forgetLogin: (sessionId: string) => void; dnsbl: ConnectDnsbl; flow: FlowControl }) {
  const { ctx } = deps;
  return (session: SMTPServerSession): void => {
    ctx.metrics.sessions.dec({ listener: ctx.kind });
    ctx.clients.delete(session.id);
    deps.forgetLogin(session.id);
    deps.dnsbl.forget(session.id);
    void deps.flow.onClose(session.id);
  };
}
