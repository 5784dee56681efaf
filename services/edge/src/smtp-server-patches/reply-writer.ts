import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const LEADING_CODE = /^([245]\.\d{1,3}\.\d{1,3}) ([\s\S]*)$/;
let installed = false;

/**
 * reply.writer: the few places where smtp-server's replies are not what the
 * RFCs or our policy want, fixed where every reply is written.
 *
 * 1. smtp-server writes error replies with a fixed enhanced status code per basic
 * code (every 550 becomes 5.1.1 "bad destination mailbox", every 451 4.3.0),
 * which would tell a sender the wrong thing about a policy reject. Our errors
 * carry their own code at the start of the text (see @portcullis/smtp-replies);
 * this moves it into the enhanced-code position. Replies without one are left
 * to smtp-server's own mapping.
 * 2. It answers AUTH before STARTTLS with a non-standard 538; RFC 3207 section 4 says 530 5.7.0.
 * 3. It lists AUTH in EHLO before TLS even when it will refuse it there; RFC 4954
 *    section 4 and our policy: mechanisms that send passwords are offered only inside TLS.
 */
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
      return original.call(this, code, data.filter((line) => !/^AUTH /.test(line)), context);
    }
    // Its own abuse refusals (early talker, unrecognised commands) would read 4.4.2 "timeout", and
    // its maxClients refusal carries no enhanced code at all.
    if (code === 421 && typeof data === 'string' && /You talk too soon|too many unrecognized commands|Too many connected clients/.test(data)) {
      return original.call(this, code, `4.7.0 ${data}`, false);
    }
    if (code === 538 && typeof data === 'string' && /STARTTLS/i.test(data)) {
      return original.call(this, 530, '5.7.0 Must issue a STARTTLS command first', false);
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
