/**
 * NOTE (smtp-server patch): SMTPStream#continue clears the continuation after running it, so when
 * buffered pipelined input holds a whole second message the continuation stored meanwhile is lost
 * and the connection hangs (details below). We patch because a client can stall its own slot until
 * the idle timeout, and the hang hides real pipelining bugs. Drop it when smtp-server's continue()
 * clears `_continueCallback` before calling it (not so in 3.21.6); the pipelining test in
 * services/edge/test/session/session-limits.test.ts shows whether it is still needed.
 */
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

let installed = false;

/**
 * pipelining.fix: smtp-server (3.21.6) loses its place when the input that follows one message
 * already holds the whole next message, and the connection then hangs until the idle timeout.
 *
 * At the end of DATA the parser keeps what followed the terminator and stores a continuation
 * (`_continueCallback`); the connection calls `continue()` once it has answered. continue() runs
 * the continuation first and clears it afterwards. If the buffered input reaches the next
 * message's end while the continuation runs (all handlers answering synchronously, as ours do
 * for MAIL and RCPT, and no dot-stuffed line, which yields to the event loop), the parser stores
 * the next continuation in the same field, and continue() then clears that one: the input after
 * the second message (QUIT, the next MAIL) is never read. Found with a client that sends the
 * next transaction, message included, without waiting for the replies (pipelining abuse; a
 * client following RFC 2920 waits for 354, and the bug needs the message in the same buffer).
 *
 * The fix clears the continuation before running it. Nothing else reads the field while it runs.
 */
export function installPipeliningFix(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPStream.prototype as unknown as { continue(this: SMTPStream): void; _continueCallback: (() => void) | boolean };
  if (typeof proto.continue !== 'function') throw new Error('smtp-server changed: SMTPStream#continue is missing');
  proto.continue = function (this: SMTPStream) {
    const next = this._continueCallback;
    if (typeof next === 'function') {
      this._continueCallback = false;
      next();
    } else {
      // Called before the parser reached the end of the message: it continues when it does.
      this._continueCallback = true;
    }
  };
}
