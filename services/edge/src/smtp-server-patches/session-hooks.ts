/**
 * NOTE (smtp-server patch): smtp-server has no per-command hook and never tells the application what
 * it replied; its hooks get the session, never the connection (details below). We wrap
 * SMTPConnection#_onCommand, #send, init, handler_DATA and _onClose so that the session limits,
 * command-phase timeouts and slot reclaiming see every command and reply and can answer and close.
 * Drop it when smtp-server offers a per-command hook with the connection (or a reply/close handle)
 * and reports its replies; checked against 3.21.6 (the edge's tests fail if a private member used
 * here goes away).
 */
import type { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Refusal } from '@portcullis/smtp-replies';
import type { SessionLimits } from '../session/session-limits.js';
import type { CommandTimeouts, ConnectionHandle } from '../session/command-timeouts.js';
import type { ListenerSlots } from '../session/slot-reclaim.js';

/**
 * session.guard: connects SessionLimits to smtp-server's connections, installed once at start
 * like reply-writer.ts, and active only for the servers a SessionLimits is attached to.
 *
 * Why a prototype patch: smtp-server has no per-command hook (onConnect, onAuth, onMailFrom,
 * onRcptTo, onData and onClose only; EHLO, NOOP, RSET, VRFY, HELP, unknown and invalid
 * commands never reach the application), it does not tell the application what it replied,
 * and its hooks get the session, never the connection or the socket, so a timer has nothing to
 * reply on or close. Every command line passes through SMTPConnection#_onCommand and every
 * reply through #send, and both run with the connection as `this`, so wrapping them (and init,
 * handler_DATA and _onClose for the start and end of a session and of DATA) gives the limits
 * what they need without copying smtp-server's state machine. The alternatives are worse:
 * smtp-server's `connections` set can be searched for the session in onConnect, but that still
 * leaves commands and replies unseen, and a byte-level tap on the socket would have to
 * re-parse SMTP, pipelining and DATA (and get smuggling wrong).
 *
 * The same events drive the command-phase timeouts (command-timeouts.ts) and slot reclaiming
 * (slot-reclaim.ts): a reply starts the client's turn, a command line ends it, and our init runs
 * before smtp-server's own maxClients check (in its init, synchronously), so the slot of a
 * session reclaimed for the newcomer is already free when the newcomer is counted.
 *
 * The private members used, all present in smtp-server 3.21.x (dist/esm/smtp-connection.js;
 * the test suite fails if one goes away): _onCommand(line, next), send(code, text, context),
 * init(), handler_DATA(line, next), _onClose(), _server (its `connections` set), _parser (an
 * SMTPStream: _dataMode, dataBytes), _dataStream, _handlerPending, _ready, _upgrading, _closing,
 * _socket, _useEnhancedStatusCodes(); and the public session (user, envelope.mailFrom) and
 * remoteAddress.
 */

interface Parser {
  _dataMode: boolean;
  dataBytes: number;
}
interface Conn {
  id: string;
  _server: { connections: Set<unknown> };
  _socket: { destroyed: boolean; destroy(): void };
  remoteAddress: string;
  session: { user?: unknown; envelope?: { mailFrom?: unknown } };
  _parser: Parser | false;
  _dataStream: (NodeJS.ReadableStream & { destroyed: boolean; writableEnded: boolean; destroy(err?: Error): void; listenerCount(e: string): number }) | false | null;
  _handlerPending: boolean;
  _ready: boolean;
  _upgrading: boolean;
  _closing: boolean;
  _closed: boolean;
  send(code: number, data?: string | string[] | null, context?: string | false): void;
  close(): void;
  _useEnhancedStatusCodes(): boolean;
}
type Proto = {
  init(this: Conn): void;
  _onCommand(this: Conn, command: Buffer, callback?: () => void): void;
  send(this: Conn, code: number, data?: string | string[] | null, context?: string | false): void;
  handler_DATA(this: Conn, command: Buffer, callback: () => void): void;
  _onClose(this: Conn): void;
};

interface Guarded {
  limits: SessionLimits;
  timeouts?: CommandTimeouts | undefined;
  slots?: ListenerSlots | undefined;
}

const attached = new WeakMap<object, Guarded>();
let installed = false;

/**
 * Enforces `limits` (and, when given, the command-phase timeouts and slot reclaiming) on every
 * connection of `server` from now on (installs the guard if needed).
 */
export function attachSessionLimits(server: SMTPServer, limits: SessionLimits, more: { timeouts?: CommandTimeouts; slots?: ListenerSlots } = {}): void {
  installSessionGuard();
  attached.set(server, { limits, timeouts: more.timeouts, slots: more.slots });
}

/** Writes a refusal as one reply line with its own enhanced code; 421 makes smtp-server close. */
function sendRefusal(conn: Conn, refusal: Refusal): void {
  const { code, enhanced, text } = refusal.reply;
  // context false: smtp-server adds no code of its own (it would put 4.4.2 on every 421).
  conn.send(code, conn._useEnhancedStatusCodes() ? `${enhanced} ${text}` : text, false);
  if (refusal.disconnect && code !== 421) conn.close();
}

function handleFor(conn: Conn): ConnectionHandle {
  const inData = () => Boolean(conn._dataStream && conn._parser && conn._parser._dataMode);
  return {
    // Our reply is pending while a handler runs (_handlerPending) and between the client's
    // CRLF.CRLF and our answer (the data stream is still set but the parser is out of DATA).
    awaitingClient: () => !conn._handlerPending && !(conn._dataStream && !inData()),
    dataBytes: () => (inData() && conn._parser ? conn._parser.dataBytes : null),
    remoteAddress: () => conn.remoteAddress,
    authenticated: () => Boolean(conn.session.user),
    inTransaction: () => Boolean(conn.session.envelope?.mailFrom),
    cut: (v) => {
      if (conn._closing || conn._closed) return;
      const stream = conn._dataStream;
      const upgrading = conn._upgrading;
      sendRefusal(conn, v);
      // In the middle of a STARTTLS handshake nothing can be written (send() holds the 421
      // back) and ending the raw socket under the TLS socket leaves it to the half-close timer.
      if (upgrading && !conn._socket.destroyed) conn._socket.destroy();
      // close() stops parsing and half-closes the socket; smtp-server destroys the data stream
      // only once the socket is fully closed (up to 5 s later, longer if the client keeps its
      // side open), and until then the onData handler would wait for a message that never ends.
      if (stream && !stream.destroyed && !stream.writableEnded) {
        const err = Object.assign(new Error(`${v.reply.enhanced} ${v.reply.text}`), { code: 'ELIMIT', responseCode: v.reply.code });
        // An 'error' without a listener would crash the process.
        stream.destroy(stream.listenerCount('error') ? err : undefined);
      }
    },
  };
}

/** Patches SMTPConnection's prototype once; connections of servers without limits are untouched. */
export function installSessionGuard(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as Proto;
  for (const name of ['init', '_onCommand', 'send', 'handler_DATA', '_onClose'] as const) {
    if (typeof proto[name] !== 'function') throw new Error(`smtp-server changed: SMTPConnection#${name} is missing`);
  }
  const { init, _onCommand, send, handler_DATA, _onClose } = {
    init: proto.init,
    _onCommand: proto._onCommand,
    send: proto.send,
    handler_DATA: proto.handler_DATA,
    _onClose: proto._onClose,
  };

  proto.init = function () {
    const g = attached.get(this._server);
    if (g) {
      const handle = handleFor(this);
      g.limits.open(this.id, handle);
      g.timeouts?.open(this.id, handle);
      // Before smtp-server counts this connection against maxClients (in init, synchronously).
      g.slots?.admitted(this._server.connections.size);
    }
    return init.call(this);
  };

  proto._onCommand = function (command, callback) {
    const g = attached.get(this._server);
    // Lines before the greeting and plaintext buffered during a TLS handshake are smtp-server's
    // to refuse or drop; a closing connection answers nothing more.
    if (g && this._ready && !this._upgrading && !this._closing) {
      g.timeouts?.command(this.id);
      const verdict = g.limits.command(this.id);
      if (!verdict.ok) {
        // Not calling back stops the parser, as smtp-server's own 421 paths do.
        sendRefusal(this, verdict.refusal);
        return;
      }
    }
    return _onCommand.call(this, command, callback);
  };

  proto.send = function (code, data, context) {
    send.call(this, code, data, context);
    const g = attached.get(this._server);
    g?.limits.reply(this.id, code);
    g?.timeouts?.reply(this.id, code);
  };

  proto.handler_DATA = function (command, callback) {
    handler_DATA.call(this, command, callback);
    // The 354 went out and the parser is in DATA mode (not so after a 503 for no RCPT).
    if (this._parser && this._parser._dataMode) attached.get(this._server)?.limits.dataStarted(this.id);
  };

  proto._onClose = function () {
    _onClose.call(this);
    const g = attached.get(this._server);
    if (!g) return;
    g.limits.close(this.id);
    g.timeouts?.close(this.id);
    g.slots?.released(this._server.connections.size);
  };
}
