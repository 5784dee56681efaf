import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import type { Bus } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import { Replies, smtpError } from '@portcullis/smtp-replies';
import { Counter, Gauge, type Logger, type Registry } from '@portcullis/telemetry';
import { installEnhancedCodeReplies } from './enhanced-codes.js';
import { checkRecipient } from './rcpt.js';
import { collectMessage } from './data.js';
import { acceptMessage } from './accept.js';
import { VerdictWaiter } from './verdict-waiter.js';
import { ByteBudget } from './byte-budget.js';

export interface EdgeDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  logger: Logger;
  registry: Registry;
}

export interface Edge {
  /** Where the MX listener is bound (port 0 in config picks a free one). */
  address(): { host: string; port: number };
  unhealthy(): string | null;
  /** Stops accepting, lets sessions in progress finish (up to graceMs), then closes. */
  stop(graceMs?: number): Promise<void>;
}

export async function startEdge(deps: EdgeDeps): Promise<Edge> {
  installEnhancedCodeReplies();
  const { config, logger } = deps;
  const log = logger.child({ component: 'edge' });
  const accepted = new Set(config.domains.map((d) => d.name));
  const instance = `${osHostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const waiter = new VerdictWaiter(`verdicts:${instance}`, deps.state, log);
  await waiter.start();

  const replies = new Counter({ name: 'portcullis_edge_data_replies_total', help: 'Replies at end of DATA, by code, outcome and the verdict heard in session (none: deadline passed or no verdict)', labelNames: ['code', 'outcome', 'verdict'], registers: [deps.registry] });
  const sessions = new Gauge({ name: 'portcullis_edge_sessions', help: 'SMTP sessions open', registers: [deps.registry] });
  let stopping = false;
  const budget = new ByteBudget(config.smtp.maxBufferedBytes);
  const dataRefusal = (reason: 'too-big' | 'bare-line-ending' | 'stream-error' | 'memory-full') => {
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

  const server = new SMTPServer({
    name: config.hostname,
    banner: 'Portcullis ESMTP',
    size: config.smtp.maxMessageBytes,
    rejectOversized: true,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    // TLS and AUTH arrive with their own issue; until then neither is offered.
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    maxClients: config.smtp.maxClients,
    socketTimeout: config.smtp.socketTimeoutMs,
    closeTimeout: 30_000,
    logger: false,
    onConnect(session, cb) {
      if (stopping) return cb(smtpError(Replies.shuttingDown()));
      sessions.inc();
      cb();
    },
    onClose() {
      sessions.dec();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb) {
      if (session.envelope.rcptTo.length >= config.smtp.maxRecipients) {
        return cb(smtpError(Replies.tooManyRecipients(config.smtp.maxRecipients)));
      }
      const smtputf8 = Boolean((session.envelope.mailFrom as SMTPServerAddress | false) && (session.envelope.mailFrom as SMTPServerAddress).args && ((session.envelope.mailFrom as SMTPServerAddress).args as Record<string, unknown>).SMTPUTF8);
      const check = checkRecipient(address.address, accepted, smtputf8);
      if (!check.ok) {
        log.info({ client: session.remoteAddress, rcpt: address.address, code: check.reply.code }, 'recipient refused');
        return cb(smtpError(check.reply));
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb) {
      handleData(stream, session)
        .then((reply) => {
          replies.inc({ code: String(reply.code), outcome: reply.outcome, verdict: reply.verdict });
          if (reply.code === 250) cb(null, reply.text); // smtp-server adds 2.6.0
          else cb(smtpError(reply));
        })
        .catch((err: Error) => {
          log.error({ error: err.message }, 'unexpected error at end of DATA');
          replies.inc({ code: '451', outcome: 'error', verdict: 'none' });
          cb(smtpError(Replies.stateUnavailable()));
        });
    },
  });
  server.on('error', (err) => log.warn({ error: err.message }, 'smtp connection error'));

  async function handleData(stream: SMTPServerDataStream, session: SMTPServerSession) {
    const held = { bytes: 0 };
    try {
      return await storeData(stream, session, held);
    } finally {
      budget.give(held.bytes);
    }
  }

  async function storeData(stream: SMTPServerDataStream, session: SMTPServerSession, held: { bytes: number }) {
    const collected = await collectMessage(stream, config.smtp.maxMessageBytes, config.smtp.bareLineEndings, budget, held);
    if (!collected.ok) {
      log.info({ client: session.remoteAddress, reason: collected.reason }, 'message refused at DATA');
      const reply = dataRefusal(collected.reason);
      return { ...reply, outcome: collected.reason, verdict: 'none' };
    }
    const from = session.envelope.mailFrom as SMTPServerAddress | false;
    const args = (from && (from.args as Record<string, string | boolean>)) || {};
    const body = String(args.BODY ?? '7BIT').toUpperCase();
    const result = await acceptMessage(
      { bus: deps.bus, state: deps.state, waiter, logger: log, hostname: config.hostname, storeTimeoutMs: config.smtp.storeTimeoutMs, verdictTimeoutMs: config.smtp.verdictTimeoutMs },
      {
        protocol: session.transmissionType || 'ESMTP',
        body: collected.message,
        envelope: {
          listener: 'mx',
          client: { ip: session.remoteAddress, port: session.remotePort },
          helo: session.hostNameAppearsAs || '',
          tls: null,
          auth: null,
          mailFrom: from ? from.address : '',
          body: body === '8BITMIME' || body === 'BINARYMIME' ? body : '7BIT',
          smtputf8: Boolean(args.SMTPUTF8),
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        },
      },
    );
    return { ...result.reply, outcome: result.outcome, verdict: result.verdict?.action ?? 'none' };
  }

  const { host, port } = config.smtp.mx.listen;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const bound = server.server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  log.info({ host, port: boundPort }, 'SMTP (MX) listening');

  return {
    address: () => ({ host, port: boundPort }),
    unhealthy: () => (stopping ? 'stopping' : null),
    stop: async (graceMs = 30_000) => {
      stopping = true;
      // smtp-server stops accepting at once and closes the sessions still open after closeTimeout.
      (server.options as { closeTimeout?: number }).closeTimeout = graceMs;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await waiter.stop();
      log.info('edge stopped');
    },
  };
}
