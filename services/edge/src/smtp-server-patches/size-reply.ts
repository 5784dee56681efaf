/**
 * NOTE (smtp-server patch): smtp-server answers a message over its `size` option with its own
 * text, "552 5.3.4 Error: message exceeds fixed maximum message size N", in two places: at MAIL
 * when SIZE= declares more than the limit (_validateMailParams, before onMailFrom is called), and
 * at the end of DATA when rejectOversized is on (_isOversized, whatever onData answered). Neither
 * text is ours, so neither is in the reply catalogue, and a sender could not find the reply's
 * check from what it saw. We keep `size` (it advertises SIZE in EHLO and marks the data stream
 * sizeExceeded) and leave both refusals to the edge's own checks, which send the catalogue's
 * replies (RFC 1870: 552 5.3.4 in both cases): SessionLimits.mail (mail.size-declared) at MAIL and
 * SessionLimits.checkMessageSize (data.too-big, data.over-declared-size) at the end of DATA.
 * Drop this when smtp-server lets the application write the size refusal (a hook or a configurable
 * text for both places); checked against smtp-server 3.21.6. The edge's tests fail if the private
 * methods go away (installSizeReply throws).
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

let installed = false;

interface MailParamsError {
  code: number;
  message: string;
  enhancedCode: string | null;
}

export function installSizeReply(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    _validateMailParams(this: SMTPConnection, parsed: unknown): MailParamsError | null | undefined;
    _isOversized(this: SMTPConnection, dataBytes: number): boolean;
  };
  if (typeof proto._validateMailParams !== 'function' || typeof proto._isOversized !== 'function') {
    throw new Error('smtp-server changed: SMTPConnection#_validateMailParams or #_isOversized is missing');
  }
  const validate = proto._validateMailParams;
  proto._validateMailParams = function (this: SMTPConnection, parsed: unknown) {
    const error = validate.call(this, parsed);
    // A SIZE over the limit is SessionLimits.mail's to refuse; every other parameter error stays smtp-server's.
    return error && error.enhancedCode === 'MESSAGE_TOO_BIG' ? null : error;
  };
  // The end of DATA is answered by onData, which refuses an oversized message itself.
  proto._isOversized = () => false;
}
