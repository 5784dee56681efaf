import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { SMTPServerSession } from 'smtp-server';
import type { ListenerContext, SmtpCallback } from '../session/listener-context.js';

/** smtp-server's onSecure: counts TLS handshakes by version and cipher; never refuses. */
export function onSecure(ctx: ListenerContext) {
  return (socket: Socket, _session: SMTPServerSession, cb: SmtpCallback): void => {
    const tlsSocket = socket as TLSSocket;
    ctx.metrics.tlsHandshakes.inc({ listener: ctx.kind, version: tlsSocket.getProtocol?.() ?? 'unknown', cipher: tlsSocket.getCipher?.()?.name ?? 'unknown' });
    cb();
  };
}
