/**
 * NOTE (smtp-server patch): reply.writer, the few places where smtp-server's replies are not what
 * the RFCs or our policy want, fixed where every reply is written (SMTPConnection#send):
 *
 * 1. smtp-server writes error replies with a fixed enhanced status code per basic code (every 550
 *    becomes 5.1.1 "bad destination mailbox", every 451 4.3.0), which would tell a sender the wrong
 *    thing about a policy reject. Our replies carry their own code at the start of the text
 *    (smtpError / refusalError of @portcullis/smtp-replies); this moves it into the enhanced-code
 *    position. Replies without one are left to smtp-server's own mapping.
 * 2. It answers AUTH before STARTTLS with a non-standard 538; RFC 3207 section 4 says 530 5.7.0
 *    (login.tls-required).
 * 3. It lists AUTH in EHLO before TLS even when it will refuse it there; RFC 4954 section 4 and our
 *    policy: mechanisms that send passwords are offered only inside TLS.
 * 4. Its own abuse refusals (early talker, unrecognised commands) would read 4.4.2 "timeout", and its
 *    maxClients refusal carries no enhanced code at all: they get the catalogue's code.
 *
 * Drop each part when smtp-server does it itself (checked against 3.21.6): an error's own enhanced
 * code honoured (1), 530 for AUTH before STARTTLS (2), AUTH not advertised where it is refused (3),
 * a settable code for its own 421s (4).
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { connect, login, session, type AnyReplyEntry } from '@portcullis/smtp-replies';

const LEADING_CODE = /^([245]\.\d{1,3}\.\d{1,3}) ([\s\S]*)$/;
let installed = false;

/** smtp-server's own 421 texts, each with the catalogue entry whose code it gets. */
const OWN_421: ReadonlyArray<[RegExp, AnyReplyEntry]> = [
  [/You talk too soon/, connect.earlyTalker],
  [/too many unrecognized commands/, session.unrecognizedCommands],
  [/Too many connected clients/, connect.tooManyClients],
];

export function installReplyWriter(): void {
  if (installed) return;
  installed = true;
  type Send = (this: SMTPConnection, code: number, data?: string | string[], context?: string | false) => void;
  const proto = SMTPConnection.prototype as unknown as { send: Send; _useEnhancedStatusCodes(): boolean };
  type Conn = { secure: boolean; _server: { options: { allowInsecureAuth?: boolean } } };
  const original = proto.send;
  proto.send = function (this: SMTPConnection, code, data, context) {
    const conn = this as unknown as Conn;
    if (code === 250 && Array.isArray(data) && !conn.secure && !conn._server.options.allowInsecureAuth) {
      return original.call(
        this,
        code,
        data.filter((line) => !/^AUTH /.test(line)),
        context,
      );
    }
    if (code === 421 && typeof data === 'string') {
      const own = OWN_421.find(([text]) => text.test(data));
      if (own) return original.call(this, code, `${own[1].enhanced} ${data}`, false);
    }
    if (code === 538 && typeof data === 'string' && /STARTTLS/i.test(data)) {
      const r = login.tlsRequired.reply();
      return original.call(this, r.code, `${r.enhanced} ${r.text}`, false);
    }
    if (typeof data === 'string' && context === undefined) {
      const m = LEADING_CODE.exec(data);
      if (m) {
        const useCodes = (this as unknown as typeof proto)._useEnhancedStatusCodes();
        return original.call(this, code, useCodes ? `${m[1]} ${m[2]}` : m[2], false);
      }
    }
    return original.call(this, code, data, context);
  };
}
