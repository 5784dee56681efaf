/**
 * The TCP listener in front of an smtp-server SMTPServer: accepts connections itself, reads the PROXY
 * protocol header (v1 or v2) from trusted load balancers, does the implicit TLS handshake on port 465
 * after that header, and only then hands the socket to smtp-server with the real client address.
 *
 * smtp-server's own listener (server.listen()) cannot be used behind an AWS NLB: its PROXY support is
 * v1 only and trusts exact addresses, not networks. So the SMTPServer is never listen()ed; this module
 * owns the net.Server and calls smtpServer.connect(socket, { remoteAddress, remotePort, ... }).
 *
 * Use ONE SMTPServer per listener (each port has its own options anyway), create it with `secure`
 * matching the listener (true for implicit TLS) and without `useProxy` / `needsUpgrade`, and stop it
 * with this listener's close(): smtpServer.close() does not wait for, nor close, sessions that came in
 * through connect().
 */
import net from 'node:net';
import type tls from 'node:tls';
import type { SMTPServer } from 'smtp-server';
import { connect, formatReply, session, type SmtpReply } from '@portcullis/smtp-replies';
import { normalizeIp, readProxyHeader, DEFAULT_MAX_V2_PAYLOAD_BYTES, type ProxyResult } from '../connect/proxy-protocol.js';
import { createTrustedPeerMatcher } from '../connect/trusted-peers.js';

/** The lines written on the raw socket before smtp-server sees it (no smtp-server to write them). */
const line = (reply: SmtpReply): string => `${formatReply(reply)}\r\n`;
export const REPLY_PROXY_REQUIRED = line(connect.proxyRequired.reply());
export const REPLY_PROXY_INVALID = line(connect.proxyInvalid.reply());
export const REPLY_TOO_MANY_PENDING = line(connect.tooManyPending.reply());
export const DEFAULT_HEADER_TIMEOUT_MS = 5000;
/** How long a refused socket may stay open for its 421 to be delivered. */
export const REFUSE_LINGER_MS = 1000;
/** After the grace period and the final 421, how long sessions get to close before their sockets are destroyed. */
const HARD_STOP_MS = 6000;

export interface ProxyListenerConfig {
  /** The load balancers' networks. Only these peers may (and must) send a PROXY header. */
  trustedCidrs: readonly string[];
  /**
   * true: a peer outside trustedCidrs is refused with 421. false: such a peer is served as a direct
   * client (its own address, nothing read as a header). Either way a trusted peer must send a header:
   * the spec forbids guessing whether one is there, and SMTP clients wait for the greeting.
   */
  required: boolean;
  /** Deadline for the whole header (spec: at least 3 s to survive a TCP retransmit). Default 5000. */
  headerTimeoutMs?: number | undefined;
  /** Largest v2 address block + TLVs accepted. Default 1024. */
  maxV2PayloadBytes?: number | undefined;
}

export type RefusalReason = 'untrusted-peer' | 'missing-header' | 'invalid-header' | 'too-many-pending' | 'tls-handshake';

export interface RefusalEvent {
  reason: RefusalReason;
  detail: string;
  /** The TCP peer (the load balancer, or the client itself if direct). */
  peerAddress: string;
  peerPort: number;
}

/** Structural subset of a pino logger. */
export interface ListenerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ProxiedListenerOptions {
  /** PROXY protocol in front of this listener; absent: every connection is a direct client. */
  proxy?: ProxyListenerConfig | undefined;
  /**
   * TLS from the first byte (port 465). Defaults to what the SMTPServer was created with
   * (`secure: true`); given explicitly, it must agree with that, or creation throws.
   */
  implicitTls?: boolean | undefined;
  /** Sockets waiting for their PROXY header or TLS handshake at once; more are refused. Default: maxClients of the SMTPServer, or 1000. */
  maxPending?: number | undefined;
  logger?: ListenerLogger | undefined;
  /** Called for every connection refused before it reached smtp-server (metrics). */
  onRefused?: ((event: RefusalEvent) => void) | undefined;
}

export interface ProxiedListener {
  /** The listening socket; call server.listen() (or use createListener). */
  readonly server: net.Server;
  /** Sockets accepted but not yet handed to smtp-server (PROXY header or TLS handshake pending). */
  pending(): number;
  /**
   * Stops accepting, drops sockets that have not reached smtp-server, lets SMTP sessions finish for
   * up to graceMs (default: closeTimeout of the SMTPServer, or 30 s), then sends them
   * "421 Server shutting down" and closes them. Resolves once every accepted socket is closed.
   */
  close(graceMs?: number): Promise<void>;
}

export interface CreateListenerOptions extends ProxiedListenerOptions {
  host: string;
  port: number;
}

export interface Listening extends ProxiedListener {
  /** Where the listener is bound (port 0 in the options picks a free one). */
  address(): { host: string; port: number };
}

type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;
type SocketOptions = NonNullable<Parameters<SMTPServer['connect']>[1]>;

interface Tracked {
  /** The socket smtp-server reads from: the TLS socket once the handshake has started. */
  top: () => net.Socket;
  connection?: SmtpConnection;
}

const noop = () => {};

/**
 * Creates the net.Server for one SMTP listener. Per connection:
 * - no `proxy`: straight to smtp-server (after the TLS handshake on an implicit TLS listener);
 * - peer outside `proxy.trustedCidrs`: 421 and close if `proxy.required`, else served directly;
 * - trusted peer: its PROXY header is read (bounded in time and size); a missing or invalid header
 *   gets 421 and the connection is closed with nothing else processed; a valid one hands the socket to
 *   smtp-server with the client address and port from the header (session.remoteAddress, remotePort,
 *   localAddress, localPort). v2 LOCAL and v1 UNKNOWN keep the socket's own addresses.
 */
export function createProxiedListener(smtpServer: SMTPServer, opts: ProxiedListenerOptions = {}): ProxiedListener {
  const serverOptions = smtpServer.options;
  const tlsFromFirstByte = Boolean(serverOptions.secure && !serverOptions.needsUpgrade && !serverOptions.secured);
  const implicitTls = opts.implicitTls ?? tlsFromFirstByte;
  if (serverOptions.useProxy) {
    throw new Error('createProxiedListener: create the SMTPServer without useProxy; the listener reads the PROXY header itself');
  }
  if (implicitTls && !tlsFromFirstByte) {
    throw new Error('createProxiedListener: implicitTls needs an SMTPServer created with secure: true (and without needsUpgrade or secured)');
  }
  if (!implicitTls && serverOptions.secure && !serverOptions.secured) {
    // smtp-server would mark a plaintext session secure (and offer AUTH in clear) or upgrade it itself
    throw new Error('createProxiedListener: the SMTPServer has secure: true but implicitTls is off');
  }
  const proxy = opts.proxy;
  const isTrusted = proxy ? createTrustedPeerMatcher(proxy.trustedCidrs) : () => false;
  const headerTimeoutMs = proxy?.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
  const maxV2PayloadBytes = proxy?.maxV2PayloadBytes ?? DEFAULT_MAX_V2_PAYLOAD_BYTES;
  const maxPending = opts.maxPending ?? serverOptions.maxClients ?? 1000;
  const log = opts.logger;

  /** Every accepted socket until it closes. */
  const sockets = new Map<net.Socket, Tracked>();
  /** Accepted sockets that have not reached smtp-server yet. */
  const pending = new Set<net.Socket>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const refuse = (socket: net.Socket, reason: RefusalReason, detail: string, reply: string | null) => {
    pending.delete(socket);
    const event: RefusalEvent = { reason, detail, peerAddress: normalizeIp(socket.remoteAddress) ?? String(socket.remoteAddress), peerPort: socket.remotePort ?? 0 };
    if (reason === 'invalid-header' || reason === 'missing-header') log?.warn({ ...event }, 'connection refused before SMTP: PROXY header');
    else log?.info({ ...event }, 'connection refused before SMTP');
    try {
      opts.onRefused?.(event);
    } catch {
      // a metrics callback must not break the listener
    }
    if (socket.destroyed) return;
    // a plaintext 421 means nothing to a client that expects a TLS handshake
    if (reply !== null && !implicitTls && socket.writable) socket.end(reply);
    else socket.end();
    // read and drop whatever the peer still sends, so its FIN is seen and unread data does not turn our FIN into a RST
    socket.resume();
    setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
  };

  const startSession = (raw: net.Socket, top: net.Socket, socketOptions: SocketOptions) => {
    pending.delete(raw);
    // a plain socket now has smtp-server's error handler; under a TLS socket the raw one keeps the
    // no-op guard (its errors surface on the TLS socket, which smtp-server listens to)
    if (top === raw) raw.off('error', noop);
    const remote = socketOptions.remoteAddress ?? normalizeIp(raw.remoteAddress) ?? '';
    const ignore = Boolean(serverOptions.ignoredHosts?.includes(remote));
    smtpServer.connect(top, { ...socketOptions, ignore });
    // connect() has just added the new SMTPConnection at the end of the set
    let connection: SmtpConnection | undefined;
    for (const c of smtpServer.connections) connection = c;
    const tracked = sockets.get(raw);
    if (tracked) {
      tracked.top = () => top;
      if (connection) tracked.connection = connection;
    }
  };

  const handOff = (raw: net.Socket, socketOptions: SocketOptions) => {
    if (closing || raw.destroyed) {
      raw.destroy();
      return;
    }
    if (!implicitTls) return startSession(raw, raw, socketOptions);
    if (!pending.has(raw) && pending.size >= maxPending) return refuse(raw, 'too-many-pending', `${pending.size} connections pending`, null);
    pending.add(raw);
    // registered there so that _upgrade() records the TLS socket on top of it, which is what has to be
    // destroyed if we stop in the middle of the handshake (tearing the raw socket away from under a
    // TLS wrap in mid-handshake is what smtp-server warns against), and so smtpServer.close() drops it too
    smtpServer._pendingSockets.set(raw, raw);
    // smtp-server's own implicit TLS path: its secure context (updateSecureContext reloads apply),
    // SNICallback/sniOptions, requestCert/rejectUnauthorized and a handshake deadline of socketTimeout
    smtpServer._upgrade(raw, (err, tlsSocket?: tls.TLSSocket) => {
      smtpServer._pendingSockets.delete(raw);
      if (err || !tlsSocket) {
        pending.delete(raw);
        raw.destroy();
        refuse(raw, 'tls-handshake', err?.message ?? 'TLS handshake failed', null);
        return;
      }
      if (closing) {
        pending.delete(raw);
        tlsSocket.destroy();
        return;
      }
      startSession(raw, tlsSocket, socketOptions);
    });
  };

  const fromHeader = (result: Exclude<ProxyResult, { kind: 'invalid' }>): SocketOptions =>
    result.kind === 'proxied' ? { remoteAddress: result.sourceAddress, remotePort: result.sourcePort, localAddress: result.destAddress, localPort: result.destPort } : {};

  const server = net.createServer((socket) => {
    // until smtp-server (or the TLS socket) has its own handlers, an error must not crash the process
    socket.on('error', noop);
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.set(socket, { top: () => smtpServer._pendingSockets.get(socket) ?? socket });
    socket.once('close', () => {
      sockets.delete(socket);
      pending.delete(socket);
    });

    if (!proxy) return handOff(socket, {});
    if (!isTrusted(socket.remoteAddress)) {
      if (proxy.required) return refuse(socket, 'untrusted-peer', 'peer is not in proxy.trustedCidrs', REPLY_PROXY_REQUIRED);
      return handOff(socket, {});
    }
    if (pending.size >= maxPending) return refuse(socket, 'too-many-pending', `${pending.size} connections pending`, REPLY_TOO_MANY_PENDING);
    pending.add(socket);
    void readProxyHeader(socket, { timeoutMs: headerTimeoutMs, maxV2PayloadBytes })
      .then((result) => {
        if (closing || socket.destroyed) {
          pending.delete(socket);
          socket.destroy();
          return;
        }
        if (result.kind === 'invalid' && result.missing && socket.readableEnded) {
          // connected and left without a byte: a TCP health check or a port scan, nothing to report
          pending.delete(socket);
          socket.destroy();
          return;
        }
        if (result.kind === 'invalid') {
          refuse(socket, result.missing ? 'missing-header' : 'invalid-header', result.reason, result.missing ? REPLY_PROXY_REQUIRED : REPLY_PROXY_INVALID);
          return;
        }
        handOff(socket, fromHeader(result));
      })
      .catch((err: unknown) => {
        pending.delete(socket);
        socket.destroy();
        log?.warn({ error: err instanceof Error ? err.message : String(err) }, 'SMTP listener failed to hand a connection over');
      });
  });

  const close = (graceMs?: number): Promise<void> => {
    if (closed) return closed;
    closing = true;
    const grace = graceMs ?? serverOptions.closeTimeout ?? 30_000;
    closed = new Promise<void>((resolve) => {
      // net.Server calls back once it no longer listens AND every socket it accepted is closed,
      // the ones serving SMTP sessions included
      let finalTimer: NodeJS.Timeout | undefined;
      let hardTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(finalTimer);
        clearTimeout(hardTimer);
        resolve();
      };
      const wasListening = server.listening;
      if (wasListening) server.close(() => finish());
      for (const socket of [...pending]) sockets.get(socket)?.top().destroy();
      finalTimer = setTimeout(() => {
        for (const tracked of sockets.values()) {
          const connection = tracked.connection;
          if (!connection) continue;
          try {
            // send() closes the connection after a 421; context false: our enhanced code, not its 4.4.2.
            const bye = session.shuttingDown.reply();
            const useCodes = (connection as unknown as { _useEnhancedStatusCodes?(): boolean })._useEnhancedStatusCodes?.() !== false;
            connection.send(bye.code, useCodes ? `${bye.enhanced} ${bye.text}` : bye.text, false);
          } catch {
            tracked.top().destroy();
          }
        }
        hardTimer = setTimeout(() => {
          for (const tracked of sockets.values()) tracked.top().destroy();
        }, HARD_STOP_MS);
        hardTimer.unref();
      }, grace);
      finalTimer.unref();
      if (!wasListening) finish();
    });
    return closed;
  };

  return { server, pending: () => pending.size, close };
}

/** createProxiedListener, bound to host:port; resolves once listening (rejects on EADDRINUSE etc.). */
export async function createListener(smtpServer: SMTPServer, opts: CreateListenerOptions): Promise<Listening> {
  const listener = createProxiedListener(smtpServer, opts);
  const { server } = listener;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.logger?.warn({ error: err.message }, 'SMTP listener error'));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : opts.port;
  return { ...listener, address: () => ({ host: opts.host, port }) };
}
