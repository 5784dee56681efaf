import type { SMTPServerSession, SMTPServerAddress } from 'smtp-server';
import type { Envelope } from '@portcullis/contract';
import type { ListenerKind } from '../listen/listeners.js';

/** data.envelope: what the session knows, as the record's envelope (TLS details and AUTH identity included). */
export function envelopeOf(kind: ListenerKind, session: SMTPServerSession): Omit<Envelope, 'receivedAt'> {
  const from = session.envelope.mailFrom as SMTPServerAddress | false;
  const args = (from && (from.args as Record<string, string | boolean>)) || {};
  const body = String(args.BODY ?? '7BIT').toUpperCase();
  const tlsInfo = session.secure && session.tlsOptions ? session.tlsOptions : null;
  return {
    listener: kind,
    client: { ip: session.remoteAddress, port: session.remotePort },
    helo: session.hostNameAppearsAs || '',
    tls: tlsInfo ? { version: tlsInfo.version, cipher: tlsInfo.standardName || tlsInfo.name, ...(session.servername ? { sni: String(session.servername) } : {}) } : null,
    auth: typeof session.user === 'string' && session.user ? { user: session.user, mechanism: 'PLAIN/LOGIN' } : null,
    mailFrom: from ? from.address : '',
    body: body === '8BITMIME' || body === 'BINARYMIME' ? body : '7BIT',
    smtputf8: Boolean(args.SMTPUTF8),
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
  };
}
