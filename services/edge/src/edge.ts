import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { SMTPServer } from 'smtp-server';
import type { Config } from '@portcullis/config';
import type { ServiceDeps } from '@portcullis/service';
import type { Logger } from '@portcullis/telemetry';
import { ConnectDnsbl } from './connect/dnsbl.js';
import { FlowControl } from './connect/flow-control.js';
import { onConnect } from './connect/on-connect.js';
import { ByteBudget } from './data/byte-budget.js';
import { onData } from './data/on-data.js';
import { VerdictWaiter } from './data/verdict-waiter.js';
import { loadCertificates, type CertificateStore } from './listen/certificates.js';
import { listenerOptions, type ListenerKind } from './listen/listeners.js';
import { onSecure } from './listen/on-secure.js';
import { createListener, type Listening } from './listen/proxied-listener.js';
import { bansAdmin } from './login/admin-bans.js';
import { createCredentialBackend } from './login/credential-backend.js';
import type { CredentialBackend } from './login/credential-source.js';
import { LoginLockout } from './login/lockout.js';
import { onAuth } from './login/on-auth.js';
import { onMailFrom } from './mail/on-mail.js';
import { edgeMetrics, type EdgeMetrics } from './metrics.js';
import { onRcptTo } from './rcpt/on-rcpt.js';
import { recipientPolicy } from './rcpt/recipient-checks.js';
import { configuredVerification } from './rcpt/recipient-verify.js';
import { CommandTimeouts } from './session/command-timeouts.js';
import type { ListenerContext } from './session/listener-context.js';
import { onClose } from './session/on-close.js';
import { refusalRecorder, type RefusalRecorder } from './session/refusal-record.js';
import { refusalAnswerer } from './session/refuse.js';
import { SessionLimits } from './session/session-limits.js';
import { SlotReclaim } from './session/slot-reclaim.js';
import { installSmtpServerPatches } from './smtp-server-patches/index.js';
import { attachSessionLimits } from './smtp-server-patches/session-hooks.js';

/** The service's deps (dns: for the connect DNSBLs, not needed without connect.dnsbl.lists), and the edge's own. */
export interface EdgeDeps extends ServiceDeps {
  /** Client addresses or networks never looked up in the connect DNSBLs (the gateway passes reputation.allow.ips). */
  dnsblExempt?: readonly string[];
}

export interface Edge {
  /** Where each enabled listener is bound (port 0 in config picks a free one). */
  address(kind?: ListenerKind): { host: string; port: number };
  unhealthy(): string | null;
  /** Stops accepting, lets sessions in progress finish (up to graceMs), then closes. */
  stop(graceMs?: number): Promise<void>;
}

/** What every listener's callbacks share: one of each per edge. */
interface EdgeParts {
  config: Config;
  deps: EdgeDeps;
  log: Logger;
  metrics: EdgeMetrics;
  certs: CertificateStore | null;
  credentials: CredentialBackend | null;
  flow: FlowControl;
  lockout: LoginLockout;
  dnsbl: ConnectDnsbl;
  reclaim: SlotReclaim;
  waiter: VerdictWaiter;
  budget: ByteBudget;
  recordRefusal: RefusalRecorder;
  login: ReturnType<typeof onAuth>;
  verify: ReturnType<typeof configuredVerification>;
  stopping: () => boolean;
}

/**
 * The edge: builds the checks once, then one SMTP server per enabled listener, each callback of
 * smtp-server handed its dependencies (connect/on-connect.ts, login/on-auth.ts, mail/on-mail.ts,
 * rcpt/on-rcpt.ts, data/on-data.ts, session/on-close.ts).
 */
export async function startEdge(deps: EdgeDeps): Promise<Edge> {
  installSmtpServerPatches();
  const { config } = deps;
  const log = deps.logger.child({ component: 'edge' });
  const instance = `${osHostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const waiter = new VerdictWaiter(`verdicts:${instance}`, deps.state, log);
  const certs = await loadCertificates(config, log);
  const credentials = await createCredentialBackend(config, log);
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
  const flow: FlowControl = new FlowControl({
    state: deps.state,
    options: config.flow,
    onStateError,
    replicaId: instance,
    makeRoom: (rule, matches): string | null => reclaim.makeRoom(rule, matches),
  });
  const lockout = new LoginLockout({ state: deps.state, options: config.lockout, exempt: config.flow.allow, onStateError });
  const login = onAuth({ credentials, maxFailures: config.login.maxFailuresPerConnection, logger: log, lockout });
  const dnsbl = new ConnectDnsbl({ config, exempt: deps.dnsblExempt ?? [], dns: deps.dns, registry: deps.registry, logger: log });
  deps.admin?.('bans', bansAdmin(lockout, log));
  await waiter.start();

  let stopping = false;
  const parts: EdgeParts = {
    config,
    deps,
    log,
    metrics,
    certs,
    credentials,
    flow,
    lockout,
    dnsbl,
    reclaim,
    waiter,
    login,
    budget: new ByteBudget(config.smtp.maxBufferedBytes),
    recordRefusal: refusalRecorder(deps),
    verify: configuredVerification(config, deps.state),
    stopping: () => stopping,
  };

  const listening = new Map<ListenerKind, { server: SMTPServer; listener: Listening }>();
  for (const kind of ['mx', 'submission', 'submissions'] as const) {
    const lc = config.smtp[kind];
    if (!lc.enabled) continue;
    const server = buildServer(kind, parts);
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
      credentials?.close();
      await flow.close();
      await waiter.stop();
      log.info('edge stopped');
    },
  };
}

/** One listener: its session limits and timers, and smtp-server with our callbacks. */
function buildServer(kind: ListenerKind, p: EdgeParts): SMTPServer {
  const ctx = listenerContext(kind, p);
  const { config } = p;
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
    ...listenerOptions(kind, config, p.certs),
    onConnect: onConnect({ ctx, flow: p.flow, lockout: p.lockout, dnsbl: p.dnsbl, stopping: p.stopping }),
    onSecure: onSecure(ctx),
    onAuth: p.login.handler,
    onMailFrom: onMailFrom({ ctx, flow: p.flow, credentials: p.credentials }),
    onRcptTo: onRcptTo({ ctx, flow: p.flow, policy: recipientPolicy(config), verify: p.verify }),
    onData: onData({ ctx, bus: p.deps.bus, state: p.deps.state, waiter: p.waiter, budget: p.budget, credentials: p.credentials, dnsbl: p.dnsbl }),
    onClose: onClose({ ctx, forgetLogin: p.login.forget, dnsbl: p.dnsbl, flow: p.flow }),
  });
  server.on('error', (err) => p.log.warn({ listener: kind, error: err.message }, 'smtp connection error'));
  attachSessionLimits(server, ctx.limits, { timeouts: ctx.timeouts, slots: p.reclaim.forListener(kind, ctx.timeouts, config.smtp.maxClients) });
  p.certs?.onReload((defaults) => server.updateSecureContext({ ...defaults }));
  return server;
}

/** The session limits and command timers of one listener, with the log lines and metrics they feed. */
function listenerContext(kind: ListenerKind, p: EdgeParts): ListenerContext {
  const { config, log, metrics } = p;
  const clients = new Map<string, string>();
  const limits = new SessionLimits(
    { ...config.smtp.limits, maxMessageBytes: config.smtp.maxMessageBytes },
    {
      onLimit: (id, v) => {
        metrics.limitRefusals.inc({ listener: kind, limit: v.reason });
        log.info({ listener: kind, session: id, limit: v.reason, code: v.reply.code, client: clients.get(id) }, 'protocol limit reached');
      },
    },
  );
  const timeouts = new CommandTimeouts(config.smtp.commandTimeouts, {
    onTimeout: (id, phase, v) => {
      metrics.commandTimeouts.inc({ listener: kind, phase });
      log.info({ listener: kind, session: id, phase, code: v.reply.code, client: clients.get(id) }, 'command timeout');
    },
  });
  const refuse = refusalAnswerer(config, limits, p.recordRefusal);
  return { kind, config, log, metrics, limits, timeouts, clients, recordRefusal: p.recordRefusal, refuse };
}
