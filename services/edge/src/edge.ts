import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import type { Bus } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import { Replies, smtpError } from '@portcullis/smtp-replies';
import type { AdminHandler, Logger, Registry } from '@portcullis/telemetry';
import { edgeMetrics } from './metrics.js';
import { bansAdmin } from './login/admin-bans.js';
import { FlowControl } from './connect/flow-control.js';
import { AuthLockout } from './login/lockout.js';
import { installReplyWriter } from './smtp-server-patches/reply-writer.js';
import { installSniPassthrough } from './smtp-server-patches/sni-passthrough.js';
import { installPipeliningFix } from './smtp-server-patches/pipelining-fix.js';
import { traceRefusal } from './session/refusal-trace.js';
import { refusalRecorder } from './session/refusal-record.js';
import { SessionLimits } from './session/session-limits.js';
import { attachSessionLimits } from './smtp-server-patches/session-hooks.js';
import { CommandTimeouts } from './session/command-timeouts.js';
import { SlotReclaim } from './session/slot-reclaim.js';
import { watchHeaderLimits } from './data/header-limits.js';
import { checkRecipient, recipientPolicy } from './rcpt/recipient-checks.js';
import { collectMessage } from './data/collect.js';
import { acceptMessage } from './data/durable-accept.js';
import { VerdictWaiter } from './data/verdict-waiter.js';
import { ByteBudget } from './data/byte-budget.js';
import { loadCertificates } from './listen/certificates.js';
import { envelopeOf } from './data/envelope.js';
import { listenerOptions, type ListenerKind } from './listen/listeners.js';
import { checkMailFrom } from './mail/sender-checks.js';
import { createAuthHandler } from './login/on-auth.js';
import { createAuthBackend } from './login/credential-backend.js';
import { checkFromHeader } from './mail/sender-identity.js';
import { RecipientVerifier, verifyReply } from './rcpt/recipient-verify.js';
import { createListener, type Listening } from './listen/proxied-listener.js';
import { ConnectDnsbl } from './connect/dnsbl.js';
import type { DnsResolver } from '@portcullis/dns';

export interface EdgeDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  logger: Logger;
  registry: Registry;
  /** Registers operator endpoints under /admin on the admin HTTP port. */
  admin?: (area: string, handler: AdminHandler) => void;
  /** For connect-time DNSBL look-ups (reputation.connect.lists); not needed without lists. */
  dns?: DnsResolver;
}

export interface Edge {
  /** Where each enabled listener is bound (port 0 in config picks a free one). */
  address(kind?: ListenerKind): { host: string; port: number };
  unhealthy(): string | null;
  /** Stops accepting, lets sessions in progress finish (up to graceMs), then closes. */
  stop(graceMs?: number): Promise<void>;
}

type DataRefusal = 'too-big' | 'bare-line-ending' | 'stream-error' | 'memory-full';

export async function startEdge(deps: EdgeDeps): Promise<Edge> {
  installReplyWriter();
  installSniPassthrough();
  installPipeliningFix();
  const { config, logger } = deps;
  const log = logger.child({ component: 'edge' });
  const rcptPolicy = recipientPolicy(config);
  const instance = `${osHostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const waiter = new VerdictWaiter(`verdicts:${instance}`, deps.state, log);
  const budget = new ByteBudget(config.smtp.maxBufferedBytes);
  const certs = await loadCertificates(config, log);
  const auth = await createAuthBackend(config, log);
  const metrics = edgeMetrics(deps.registry);
  const onStateError = (rule: string, err: Error) => {
    metrics.stateErrors.inc({ rule });
    log.warn({ rule, error: err.message }, 'shared state unavailable');
  };
  // slot.reclaim: idle sessions before MAIL make way for newcomers when slots run short.
  const reclaim: SlotReclaim = new SlotReclaim(config.smtp.reclaim, {
    exempt: (ip): boolean => flow.isAllowListed(ip),
    onReclaim: (e) => {
      metrics.reclaims.inc({ listener: e.listener, reason: e.reason, phase: e.phase });
      log.info({ listener: e.listener, session: e.sessionId, client: e.client, phase: e.phase, idleMs: e.idleMs, reason: e.reason }, 'idle session reclaimed');
    },
    onPressure: (listener, on) => {
      metrics.underPressure.set({ listener }, on ? 1 : 0);
      log.warn({ listener }, on ? 'connection slots short: pre-MAIL timeouts shortened' : 'connection slots no longer short');
    },
  });
  const flow: FlowControl = new FlowControl({ state: deps.state, options: config.flow, onStateError, replicaId: instance, makeRoom: (rule, matches): string | null => reclaim.makeRoom(rule, matches) });
  const lockout = new AuthLockout({ state: deps.state, options: config.lockout, exempt: config.flow.allow, onStateError });
  const authHandler = createAuthHandler({ auth, maxFailures: config.auth.maxFailuresPerConnection, logger: log, lockout });
  const dnsbl = new ConnectDnsbl({ config, dns: deps.dns, registry: deps.registry, logger: log });
  deps.admin?.('bans', bansAdmin(lockout, log));
  const recordRefusal = refusalRecorder(deps);
  await waiter.start();

  let stopping = false;

  const dataRefusal = (reason: DataRefusal) => {
    switch (reason) {
      case 'too-big':
        return Replies.tooBig(config.smtp.maxMessageBytes);
      case 'bare-line-ending':
        return Replies.bareLineEnding();
      case 'memory-full':
        return Replies.memoryFull();
      case 'stream-error':
        return Replies.stateUnavailable();
    }
  };

  const verifier = new RecipientVerifier(deps.state, { helo: config.hostname, maxConcurrent: 16 });
  const domains = new Map(config.domains.map((d) => [d.name, d]));
  /** rcpt.verify, for domains that ask for it. */
  async function verifyIfConfigured(address: string) {
    const d = domains.get(address.slice(address.lastIndexOf('@') + 1));
    if (!d?.verifyRecipients?.enabled || !d.downstream) return null;
    return verifyReply(await verifier.verify(address, d.downstream, d.verifyRecipients), address);
  }

  /** data.from: on submission the From header must name only addresses the user owns. */
  function checkFromOwnership(message: Buffer, session: SMTPServerSession) {
    const user = typeof session.user === 'string' ? session.user : '';
    const end = message.indexOf('\r\n\r\n');
    const headers = end >= 0 ? message.subarray(0, end + 2) : message;
    const verdict = checkFromHeader(user, headers, auth && user ? auth.addressesFor(user) : []);
    if (verdict.ok) return null;
    log.info({ client: session.remoteAddress, user, reason: verdict.reason }, 'From header refused');
    const text =
      verdict.reason === 'not-owned'
        ? `From address <${verdict.address}> is not owned by the authenticated user`
        : `From header is ${verdict.reason === 'missing' ? 'missing' : verdict.reason === 'several-fields' ? 'given more than once' : 'malformed'}`;
    return { code: 553, enhanced: '5.7.1', text };
  }

  async function handleData(kind: ListenerKind, limits: SessionLimits, timeouts: CommandTimeouts, stream: SMTPServerDataStream, session: SMTPServerSession) {
    const held = { bytes: 0 };
    const L = config.smtp.limits;
    // Attached before collecting: both read the same chunks.
    const headers = watchHeaderLimits(stream, { maxHeaderBytes: L.maxHeaderBytes, maxLineLength: L.maxLineLength });
    const mailFrom = session.envelope.mailFrom;
    try {
      const collected = await collectMessage(stream, limits.messageByteLimit(mailFrom), config.smtp.bareLineEndings, budget, held);
      // A timer cut the session (DATA, session or command-phase time): the client already has its 421.
      const cut = limits.cutBy(session.id) ?? timeouts.cutBy(session.id);
      const refusedAtData = (reply: { code: number; limit: string }) =>
        log.info({ client: session.remoteAddress, listener: kind, limit: reply.limit, code: reply.code }, 'message refused at DATA');
      if (cut) return { ...cut, outcome: cut.limit, verdict: 'none' };
      const size = limits.checkMessageSize(session.id, stream.byteLength, mailFrom);
      if (!size.ok) {
        refusedAtData(size);
        return { ...size, outcome: size.limit, verdict: 'none' };
      }
      const shape = headers.end();
      if (!shape.ok) {
        refusedAtData(shape);
        return { ...shape, outcome: shape.limit, verdict: 'none' };
      }
      if (!collected.ok) {
        log.info({ client: session.remoteAddress, reason: collected.reason }, 'message refused at DATA');
        return { ...dataRefusal(collected.reason), outcome: collected.reason, verdict: 'none' };
      }
      if (kind !== 'mx') {
        const refusal = checkFromOwnership(collected.message, session);
        if (refusal) return { ...refusal, outcome: 'sender-not-owned', verdict: 'none' };
      }
      const result = await acceptMessage(
        { bus: deps.bus, state: deps.state, waiter, logger: log, hostname: config.hostname, storeTimeoutMs: config.smtp.storeTimeoutMs, verdictTimeoutMs: config.smtp.verdictTimeoutMs },
        { protocol: session.transmissionType || 'ESMTP', body: collected.message, envelope: envelopeOf(kind, session), results: dnsbl.results(session.id) },
      );
      return { ...result.reply, outcome: result.outcome, verdict: result.verdict?.action ?? 'none' };
    } finally {
      budget.give(held.bytes);
    }
  }

  function buildServer(kind: ListenerKind): SMTPServer {
    /** Client address per open session, for log lines written where only the session id is known. */
    const clients = new Map<string, string>();
    const limits = new SessionLimits(
      { ...config.smtp.limits, maxMessageBytes: config.smtp.maxMessageBytes },
      {
        onLimit: (id, v) => {
          metrics.limitRefusals.inc({ listener: kind, limit: v.limit });
          log.info({ listener: kind, session: id, limit: v.limit, code: v.code, client: clients.get(id) }, 'protocol limit reached');
        },
      },
    );
    const timeouts = new CommandTimeouts(config.smtp.commandTimeouts, {
      onTimeout: (id, phase, v) => {
        metrics.commandTimeouts.inc({ listener: kind, phase });
        log.info({ listener: kind, session: id, phase, code: v.code, client: clients.get(id) }, 'command timeout');
      },
    });
    /** connect.tarpit: a client collecting errors waits longer for each refusal (cheap for us, costly for a scanner). */
    const refuse = (session: SMTPServerSession, cb: (err?: Error | null) => void, reply: Parameters<typeof smtpError>[0], command: string, address?: string) => {
      traceRefusal(command, session, reply);
      recordRefusal(command, session, reply, address);
      const L = config.smtp.limits;
      const errors = limits.stats(session.id)?.errors ?? 0;
      const delay = L.tarpitAfterErrors > 0 && errors >= L.tarpitAfterErrors ? Math.min(L.tarpitMaxMs, L.tarpitDelayMs * (errors - L.tarpitAfterErrors + 1)) : 0;
      if (delay === 0 || reply.code === 421) return cb(smtpError(reply));
      setTimeout(() => cb(smtpError(reply)), delay);
    };
    const server = new SMTPServer({
      name: config.hostname,
      banner: 'Portcullis', // smtp-server writes "220 <name> ESMTP <banner>" itself
      size: config.smtp.maxMessageBytes,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      // We do not (yet) carry REQUIRETLS (RFC 8689) to the next hop, so we must not advertise it.
      hideREQUIRETLS: true,
      disableReverseLookup: true,
      maxClients: config.smtp.maxClients,
      socketTimeout: config.smtp.socketTimeoutMs,
      closeTimeout: 30_000,
      logger: false,
      ...listenerOptions(kind, config, certs),
      onConnect(session, cb) {
        if (stopping) return cb(smtpError(Replies.shuttingDown()));
        metrics.sessions.inc({ listener: kind });
        clients.set(session.id, session.remoteAddress);
        // connect.flow and connect.ban: the cheapest refusals, before the greeting.
        (async () => {
          const f = await flow.onConnect(session.remoteAddress, session.id);
          if (f.action === 'refuse') return f;
          const l = await lockout.checkConnect(session.remoteAddress);
          if (l.action === 'refuse') return l;
          // connect.dnsbl: after the free checks, since it costs look-ups.
          const d = await dnsbl.onConnect(session.remoteAddress, session.id);
          if (d.action === 'tarpit') await new Promise((resolve) => setTimeout(resolve, d.delayMs));
          return d.action === 'refuse' ? d : null;
        })().then(
          (refusal) => {
            if (!refusal) return cb();
            metrics.flowRefusals.inc({ listener: kind, rule: refusal.rule });
            log.info({ listener: kind, client: session.remoteAddress, rule: refusal.rule, code: refusal.code }, 'connection refused');
            traceRefusal('CONNECT', session, refusal, refusal.rule);
            recordRefusal('CONNECT', session, refusal, undefined, refusal.rule);
            cb(smtpError(refusal));
          },
          () => cb(),
        );
      },
      onClose(session) {
        metrics.sessions.dec({ listener: kind });
        clients.delete(session.id);
        authHandler.forget(session.id);
        dnsbl.forget(session.id);
        void flow.onClose(session.id);
      },
      onAuth: authHandler.handler,
      onSecure(socket, _session, cb) {
        const tlsSocket = socket as import('node:tls').TLSSocket;
        metrics.tlsHandshakes.inc({ listener: kind, version: tlsSocket.getProtocol?.() ?? 'unknown', cipher: tlsSocket.getCipher?.()?.name ?? 'unknown' });
        cb();
      },
      onMailFrom(address, session, cb) {
        const limit = limits.mail(session.id, address);
        if (!limit.ok) return cb(smtpError(limit)); // a 421 makes smtp-server close
        const refusal = checkMailFrom(kind, session, address.address, { config, auth });
        if (refusal) {
          log.info({ client: session.remoteAddress, listener: kind, from: address.address, code: refusal.code }, 'sender refused');
          return refuse(session, cb, refusal, 'MAIL', address.address);
        }
        flow.onMailFrom(session.remoteAddress).then((f) => {
          if (f.action === 'allow') return cb();
          metrics.flowRefusals.inc({ listener: kind, rule: f.rule });
          log.info({ client: session.remoteAddress, listener: kind, rule: f.rule, code: f.code }, 'sender refused by flow control');
          refuse(session, cb, f, 'MAIL', address.address);
        }, () => cb());
      },
      onRcptTo(address, session, cb) {
        if (session.envelope.rcptTo.length >= config.smtp.maxRecipients) {
          log.info({ client: session.remoteAddress, listener: kind }, 'too many recipients');
          return refuse(session, cb, Replies.tooManyRecipients(config.smtp.maxRecipients), 'RCPT', address.address);
        }
        const from = session.envelope.mailFrom as SMTPServerAddress | false;
        const smtputf8 = Boolean(from && (from.args as Record<string, unknown> | false) && (from.args as Record<string, unknown>).SMTPUTF8);
        const authenticated = kind !== 'mx' && Boolean(session.user);
        const check = checkRecipient(address.address, { authenticated, smtputf8 }, rcptPolicy);
        if (!check.ok) {
          log.info({ client: session.remoteAddress, listener: kind, rcpt: address.address, code: check.reply.code }, 'recipient refused');
          return refuse(session, cb, check.reply, 'RCPT', address.address);
        }
        // The stored form from here on (smtp-server keeps this object in the envelope).
        address.address = check.address;
        // Authenticated mail to other domains goes out: nothing of ours to verify. Authenticated users
        // are not held to the per-IP recipient rate; our recipients are verified whoever sends.
        if (!check.ours) return cb();
        (authenticated ? Promise.resolve({ action: 'allow' as const }) : flow.onRcptTo(session.remoteAddress))
          .then((f) => {
            if (f.action === 'refuse') {
              metrics.flowRefusals.inc({ listener: kind, rule: f.rule });
              return f;
            }
            return verifyIfConfigured(check.address);
          })
          .then(
          (refusal) => {
            if (!refusal) return cb();
            const rule = 'rule' in refusal ? String(refusal.rule) : 'verification';
            log.info({ client: session.remoteAddress, rcpt: address.address, code: refusal.code, rule }, 'recipient refused');
            refuse(session, cb, refusal, 'RCPT', address.address);
          },
          () => cb(smtpError({ code: 451, enhanced: '4.4.3', text: 'Recipient verification failed, try again later' })),
        );
      },
      onData(stream, session, cb) {
        handleData(kind, limits, timeouts, stream, session)
          .then((reply) => {
            metrics.replies.inc({ code: String(reply.code), outcome: reply.outcome, verdict: reply.verdict });
            // Refused before a verdict (nothing stored): only the trace remembers it.
            if (reply.code !== 250 && reply.verdict === 'none') recordRefusal('DATA', session, reply, undefined, reply.outcome);
            if (reply.code === 250) cb(null, reply.text); // smtp-server adds 2.6.0
            else cb(smtpError(reply));
          })
          .catch((err: Error) => {
            log.error({ error: err.message }, 'unexpected error at end of DATA');
            metrics.replies.inc({ code: '451', outcome: 'error', verdict: 'none' });
            cb(smtpError(Replies.stateUnavailable()));
          });
      },
    });
    server.on('error', (err) => log.warn({ listener: kind, error: err.message }, 'smtp connection error'));
    attachSessionLimits(server, limits, { timeouts, slots: reclaim.forListener(kind, timeouts, config.smtp.maxClients) });
    certs?.onReload((defaults) => server.updateSecureContext({ ...defaults }));
    return server;
  }

  const listening = new Map<ListenerKind, { server: SMTPServer; listener: Listening }>();
  for (const kind of ['mx', 'submission', 'submissions'] as const) {
    const lc = config.smtp[kind];
    if (!lc.enabled) continue;
    const server = buildServer(kind);
    const listener = await createListener(server, {
      host: lc.listen.host,
      port: lc.listen.port,
      implicitTls: kind === 'submissions',
      ...(lc.proxy ? { proxy: lc.proxy } : {}),
      logger: log,
    });
    listening.set(kind, { server, listener });
    log.info({ listener: kind, ...listener.address() }, 'SMTP listening');
  }
  certs?.watch(config.tls.reloadCheckMs);

  return {
    address: (kind = 'mx') => {
      const l = listening.get(kind);
      if (!l) throw new Error(`listener ${kind} is not enabled`);
      return l.listener.address();
    },
    unhealthy: () => (stopping ? 'stopping' : null),
    stop: async (graceMs = 30_000) => {
      stopping = true;
      await Promise.all(
        [...listening.values()].map(async ({ server, listener }) => {
          // Stops accepting, lets sessions finish for up to graceMs, then 421s and closes the rest.
          await listener.close(graceMs);
          (server.options as { closeTimeout?: number }).closeTimeout = 1000;
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }),
      );
      certs?.stop();
      auth?.close();
      await flow.close();
      await waiter.stop();
      log.info('edge stopped');
    },
  };
}
