/**
 * Test harness for the protocol limits: a real SMTPServer on loopback, wired with the session and
 * header limits exactly as recommended for the edge (see `buildLimitedServer`), and a raw-socket
 * SMTP client that sends bytes as given (no line-ending fixes, no dot-stuffing, pipelining as
 * the test writes it) and reads replies one by one.
 */
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { data, refusalError, smtpError, type SmtpReply } from '@portcullis/smtp-replies';
import { installSmtpServerPatches } from '../src/smtp-server-patches/index.js';
import { collectMessage } from '../src/data/collect.js';
import { ByteBudget } from '../src/data/byte-budget.js';
import { SessionLimits, type SessionLimitOptions } from '../src/session/session-limits.js';
import { type LimitVerdict, type LimitRefusal } from '../src/session/limit-refusals.js';
import { attachSessionLimits } from '../src/smtp-server-patches/session-hooks.js';
import { CommandTimeouts, type CommandPhase } from '../src/session/command-timeouts.js';
import type { CommandTimeoutOptions } from '../src/session/command-timeout-options.js';
import { SlotReclaim, type ReclaimEvent, type ReclaimOptions } from '../src/session/slot-reclaim.js';
import { watchHeaderLimits, type HeaderLimitOptions, DEFAULT_HEADER_LIMITS } from '../src/data/header-limits.js';

export const OURS = 'ours.example';

// ------------------------------------------------------------------------------------------ client

export interface Reply {
  code: number;
  /** Every line of the reply, without the code and separator. */
  lines: string[];
  /** The last line's text (after the code), e.g. "5.3.4 Message ...". */
  text: string;
}

/** A raw SMTP client: bytes go out exactly as given, replies are parsed as they come. */
export class RawClient {
  private buffer = '';
  private partial: string[] = [];
  private readonly replies: Reply[] = [];
  private waiter: (() => void) | null = null;
  /** The server closed its side (FIN) or the socket closed. */
  ended = false;
  endedAt = 0;
  readonly greeting: Promise<Reply>;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    const onEnd = () => {
      if (!this.ended) {
        this.ended = true;
        this.endedAt = Date.now();
      }
      this.wake();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', () => {});
    this.greeting = this.next();
  }

  /** Connects (from `localAddress`, e.g. another 127.x.y.z, when given) and expects the 220 greeting. */
  static async connect(port: number, localAddress?: string): Promise<RawClient> {
    const client = await RawClient.open(port, localAddress);
    const greeting = await client.greeting;
    if (greeting.code !== 220) throw new Error(`no greeting: ${greeting.code} ${greeting.text}`);
    return client;
  }

  /** Connects without waiting for the greeting (which `greeting` resolves to). */
  static async open(port: number, localAddress?: string): Promise<RawClient> {
    const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  private onData(text: string): void {
    this.buffer += text;
    let i: number;
    while ((i = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) throw new Error(`not an SMTP reply line: ${JSON.stringify(line)}`);
      this.partial.push(m[3]!);
      if (m[2] === ' ') {
        this.replies.push({ code: Number(m[1]), lines: this.partial, text: m[3]! });
        this.partial = [];
      }
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next reply; rejects when the connection closes first or nothing comes in time. */
  async next(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.replies.shift()!;
  }

  /** Every reply until the server closes the connection. */
  async rest(timeoutMs = 5000): Promise<Reply[]> {
    const out: Reply[] = [];
    for (;;) {
      try {
        out.push(await this.next(timeoutMs));
      } catch (err) {
        if ((err as Error).message === 'connection closed') return out;
        throw err;
      }
    }
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.next();
  }

  /** EHLO, MAIL, RCPT, DATA: ready to send the message (354 checked). */
  async startData(opts: { from?: string; size?: number; rcpt?: string } = {}): Promise<void> {
    await expectCode(this.command('EHLO client.example'), 250);
    await expectCode(this.command(`MAIL FROM:<${opts.from ?? 'sender@sender.example'}>${opts.size !== undefined ? ` SIZE=${opts.size}` : ''}`), 250);
    await expectCode(this.command(`RCPT TO:<${opts.rcpt ?? `user@${OURS}`}>`), 250);
    await expectCode(this.command('DATA'), 354);
  }

  /** Waits for the server to close (FIN or close); true if it did within the time. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await sleep(10);
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export async function expectCode(reply: Promise<Reply>, code: number): Promise<Reply> {
  const r = await reply;
  if (r.code !== code) throw new Error(`expected ${code}, got ${r.code} ${r.lines.join(' / ')}`);
  return r;
}

// ------------------------------------------------------------------------------------------ server

export interface HarnessOptions {
  limits?: Partial<SessionLimitOptions>;
  headers?: Partial<HeaderLimitOptions>;
  bareLineEndings?: 'reject' | 'normalize';
  /** Hold the reply at end of DATA this long (stands for the durable write and verdict wait). */
  replyDelayMs?: number;
  /** smtp-server's idle timeout. */
  socketTimeout?: number;
  /** Leave smtp-server's own SIZE checks off (size unset), to see ours alone. */
  noServerSize?: boolean;
  /** Command-phase timeouts (always attached; the defaults are minutes long). */
  commandTimeouts?: Partial<CommandTimeoutOptions>;
  /** smtp-server's maxClients, and slot reclaiming against it. */
  maxClients?: number;
  reclaim?: Partial<ReclaimOptions>;
  /** Offer AUTH PLAIN without TLS (tests only); any user with password "secret" gets in. */
  auth?: boolean;
  /** Hold the reply to MAIL this long (stands for a slow look-up). */
  mailDelayMs?: number;
  /** Offer STARTTLS (smtp-server's built-in test certificate). */
  starttls?: boolean;
}

export interface DataOutcome {
  sessionId: string;
  /** The DATA stream exactly as smtp-server delivered it. */
  raw: Buffer;
  /** What would be stored (collectMessage's result) when accepted. */
  stored: Buffer | null;
  reply: SmtpReply;
  limit?: string;
}

export interface Harness {
  port: number;
  server: SMTPServer;
  limits: SessionLimits;
  budget: ByteBudget;
  /** MAIL FROM addresses that reached onMailFrom. */
  mailFroms: string[];
  outcomes: DataOutcome[];
  refusals: Array<{ sessionId: string; verdict: LimitRefusal }>;
  timeouts: CommandTimeouts;
  /** Sessions cut by a command-phase timeout, in order. */
  timedOut: Array<{ sessionId: string; phase: CommandPhase }>;
  reclaimed: ReclaimEvent[];
  reclaim: SlotReclaim;
  close(): Promise<void>;
}

/**
 * The recommended wiring. What the edge would paste:
 *   - server options: size + rejectOversized, hideENHANCEDSTATUSCODES: false (the size refusals at
 *     MAIL and at the end of DATA are then our own: smtp-server-patches/size-reply.ts);
 *   - installSmtpServerPatches() (reply writer, pipelining fix, size reply, SNI passthrough), as the edge installs them;
 *   - attachSessionLimits(server, limits) after creating the server;
 *   - onMailFrom: limits.mail(session.id, address) first;
 *   - onData: watchHeaderLimits(stream) before collectMessage, collect up to
 *     limits.messageByteLimit(mailFrom), then the checks in the order below.
 */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  installSmtpServerPatches();
  const mailFroms: string[] = [];
  const outcomes: DataOutcome[] = [];
  const refusals: Harness['refusals'] = [];
  const limits = new SessionLimits(opts.limits ?? {}, { onLimit: (sessionId, verdict) => refusals.push({ sessionId, verdict }) });
  const headerLimits: HeaderLimitOptions = { ...DEFAULT_HEADER_LIMITS, ...opts.headers };
  const budget = new ByteBudget(1 << 30);
  const bareLineEndings = opts.bareLineEndings ?? 'reject';
  const timedOut: Harness['timedOut'] = [];
  const reclaimed: ReclaimEvent[] = [];
  const timeouts = new CommandTimeouts(opts.commandTimeouts ?? {}, { onTimeout: (sessionId, phase) => timedOut.push({ sessionId, phase }) });
  const reclaim = new SlotReclaim(opts.reclaim ?? {}, { onReclaim: (e) => reclaimed.push(e) });

  async function handleData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<DataOutcome> {
    const raw: Buffer[] = [];
    stream.on('data', (c: Buffer) => raw.push(c));
    const headers = watchHeaderLimits(stream, headerLimits);
    const held = { bytes: 0 };
    const mailFrom = session.envelope.mailFrom as SMTPServerAddress | false;
    const outcome = (reply: SmtpReply, stored: Buffer | null = null, limit?: string): DataOutcome => ({
      sessionId: session.id,
      raw: Buffer.concat(raw),
      stored,
      reply,
      ...(limit ? { limit } : {}),
    });
    try {
      const collected = await collectMessage(stream, limits.messageByteLimit(mailFrom), bareLineEndings, budget, held);
      // 1. A limit cut the session (DATA, session or command-phase time): the client already has its 421.
      const cut = limits.cutBy(session.id) ?? timeouts.cutBy(session.id);
      if (cut) return outcome(cut.reply, null, cut.reason);
      // 2. Size: over the fixed limit or over the declared SIZE (RFC 1870).
      const size = limits.checkMessageSize(session.id, stream.byteLength, mailFrom);
      if (!size.ok) return outcome(size.refusal.reply, null, size.refusal.reason);
      // 3. Header section and line length.
      const shape: LimitVerdict = headers.end();
      if (!shape.ok) return outcome(shape.refusal.reply, null, shape.refusal.reason);
      // 4. The rest as the edge does today (bare line endings, memory, stream errors).
      if (!collected.ok) {
        const reply: SmtpReply =
          collected.reason === 'bare-line-ending'
            ? data.bareLineEnding.reply()
            : collected.reason === 'too-big'
              ? data.tooBig.reply(limits.options.maxMessageBytes)
              : data.localProblem.reply();
        return outcome(reply, null, collected.reason);
      }
      if (opts.replyDelayMs) await sleep(opts.replyDelayMs);
      return outcome(data.queued.reply(session.id), collected.message);
    } finally {
      budget.give(held.bytes);
    }
  }

  const server = new SMTPServer({
    name: 'mx.test',
    banner: 'Portcullis ESMTP',
    ...(opts.noServerSize ? {} : { size: limits.options.maxMessageBytes, rejectOversized: true }),
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    authOptional: true,
    ...(opts.auth
      ? {
          allowInsecureAuth: true,
          authMethods: ['PLAIN'],
          disabledCommands: ['STARTTLS'],
          onAuth: (auth, _session, cb) => (auth.password === 'secret' ? cb(null, { user: auth.username }) : cb(new Error('5.7.8 Authentication failed'))),
        }
      : { disabledCommands: opts.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'] }),
    ...(opts.maxClients ? { maxClients: opts.maxClients } : {}),
    socketTimeout: opts.socketTimeout ?? 10_000,
    closeTimeout: 200,
    logger: false,
    onMailFrom(address, session, cb) {
      const verdict = limits.mail(session.id, address);
      if (!verdict.ok) return cb(refusalError(verdict.refusal));
      mailFroms.push(address.address);
      if (opts.mailDelayMs) setTimeout(() => cb(), opts.mailDelayMs);
      else cb();
    },
    onRcptTo(address, _session, cb) {
      if (address.address.toLowerCase().endsWith(`@${OURS}`)) return cb();
      cb(smtpError({ code: 550, enhanced: '5.7.1', text: `Relay access denied for <${address.address}>` }));
    },
    onData(stream, session, cb) {
      handleData(stream, session).then(
        (o) => {
          outcomes.push(o);
          if (o.reply.code === 250) cb(null, o.reply.text);
          else cb(smtpError(o.reply));
        },
        (err: Error) => cb(smtpError({ code: 451, enhanced: '4.3.0', text: err.message })),
      );
    },
  });
  server.on('error', () => {});
  attachSessionLimits(server, limits, { timeouts, slots: reclaim.forListener('mx', timeouts, opts.maxClients ?? 100) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    server,
    limits,
    budget,
    mailFroms,
    outcomes,
    refusals,
    timeouts,
    timedOut,
    reclaimed,
    reclaim,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs fn against a harness started with opts, and closes it afterwards. */
export async function withHarness(opts: HarnessOptions, fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Waits until `check` holds (or the time is up); returns whether it held. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
