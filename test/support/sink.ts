import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** When the message was accepted (epoch ms). */
  at: number;
  /** The BODY= parameter of MAIL FROM, if any. */
  body?: string;
}

/** What the scripted server answers at one step: a reply, or 'drop' (the connection is cut without a word). */
export type ScriptedAnswer = { code: number; text: string } | 'drop' | undefined;

/** One command as the script sees it; attempt counts from 1 per recipient (RCPT) or per session (other steps). */
export interface ScriptStep {
  phase: 'connect' | 'mail' | 'rcpt' | 'data';
  address?: string;
  attempt: number;
  /** Recipients accepted in this transaction (at data). */
  recipients: string[];
}

export interface SinkOptions {
  /** When set, RCPT for any other address gets 550 5.1.1, as a real mailbox server does. */
  known?: Set<string>;
  /** Decides replies per step; undefined means the normal answer. */
  script?: (step: ScriptStep) => ScriptedAnswer;
  /** Wait this long before answering the end of DATA. */
  dataDelayMs?: number | (() => number);
  /** Do not advertise 8BITMIME / SMTPUTF8. */
  hide8bit?: boolean;
  hideSmtputf8?: boolean;
}

/**
 * A real SMTP server on loopback playing the organisation's mailbox server.
 * It keeps every message it accepted, byte for byte as received after DATA.
 * Scripted, it answers 4xx, 5xx, per-recipient mixes, 421 or cuts the
 * connection, per recipient and per attempt. A message counts as accepted
 * only once its 250 has been written to a connection still open (a server that
 * commits on the reply): a client killed before the reply has delivered nothing.
 */
export class MailboxSink {
  readonly messages: SunkMessage[] = [];
  /** Every RCPT the server saw: address, when, and the code it answered. */
  readonly rcptLog: { address: string; at: number; code: number }[] = [];
  connections = 0;
  /** Messages whose DATA is in and whose reply is not yet given (dataDelayMs). */
  pendingData = 0;
  /** When the last 250 to DATA was given (epoch ms). */
  lastReplyAt = 0;
  /** While set, replies to DATA wait (the messages stay pending). */
  holdReplies = false;
  private readonly attempts = new Map<string, number>();
  private readonly closed = new Set<string>();
  private server: SMTPServer;
  port = 0;

  constructor(knownOrOptions?: Set<string> | SinkOptions) {
    const o: SinkOptions = knownOrOptions instanceof Set ? { known: knownOrOptions } : (knownOrOptions ?? {});
    const answer = (step: ScriptStep, session: SMTPServerSession, cb: (err?: Error | null) => void): boolean => {
      const a = o.script?.(step);
      if (a === undefined) return false;
      if (a === 'drop') {
        this.socketOf(session)?.destroy();
        return true;
      }
      cb(Object.assign(new Error(a.text), { responseCode: a.code }));
      return true;
    };
    const count = (k: string) => {
      const n = (this.attempts.get(k) ?? 0) + 1;
      this.attempts.set(k, n);
      return n;
    };
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      hideENHANCEDSTATUSCODES: false,
      hide8BITMIME: o.hide8bit ?? false,
      hideSMTPUTF8: o.hideSmtputf8 ?? false,
      logger: false,
      size: 64 * 1024 * 1024,
      // Stopping must not wait for a relay's idle pooled connections.
      closeTimeout: 200,
      onClose: (session) => {
        this.closed.add(session.id);
      },
      onConnect: (session, cb) => {
        this.connections++;
        if (!answer({ phase: 'connect', attempt: count('connect'), recipients: [] }, session, cb)) cb();
      },
      onMailFrom: (addr, session, cb) => {
        if (!answer({ phase: 'mail', address: addr.address, attempt: count(`mail:${addr.address}`), recipients: [] }, session, cb)) cb();
      },
      onRcptTo: (addr, session, cb) => {
        const address = addr.address.toLowerCase();
        const step: ScriptStep = { phase: 'rcpt', address, attempt: count(`rcpt:${address}`), recipients: [] };
        const a = o.script?.(step);
        this.rcptLog.push({ address, at: Date.now(), code: a === undefined ? (!o.known || o.known.has(address) ? 250 : 550) : a === 'drop' ? 0 : a.code });
        if (answer(step, session, cb)) return;
        if (!o.known || o.known.has(address)) return cb();
        cb(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const recipients = session.envelope.rcptTo.map((r) => r.address);
          this.pendingData++;
          const finish = (): void => {
            if (this.holdReplies) return void setTimeout(finish, 20);
            this.pendingData--;
            if (answer({ phase: 'data', attempt: count(`data:${recipients.join(',')}`), recipients }, session, cb)) return;
            const socket = this.socketOf(session);
            if (!socket || socket.destroyed || !(socket as { writable?: boolean }).writable || this.closed.has(session.id)) return cb(new Error('connection gone'));
            const from = session.envelope.mailFrom;
            const body = from ? ((from.args as Record<string, string> | false) || {}).BODY : undefined;
            this.messages.push({ from: from ? from.address : '', to: recipients, raw: Buffer.concat(chunks), at: Date.now(), ...(body ? { body } : {}) });
            this.lastReplyAt = Date.now();
            cb();
          };
          const delay = typeof o.dataDelayMs === 'function' ? o.dataDelayMs() : o.dataDelayMs;
          if (delay) setTimeout(finish, delay);
          else finish();
        });
      },
    });
  }

  private socketOf(session: SMTPServerSession): { destroy(): void; destroyed: boolean } | undefined {
    const conns = (this.server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void; destroyed: boolean } }> }).connections;
    for (const c of conns) if (c.id === session.id) return c._socket;
    return undefined;
  }

  async start(port = 0): Promise<number> {
    // A relay killed mid-session resets its connections; that is expected here, not a failure.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
    const addr = this.server.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Messages whose Received header names the given Portcullis message id. */
  find(messageId: string): SunkMessage[] {
    const needle = Buffer.from(` id ${messageId}`);
    return this.messages.filter((m) => m.raw.subarray(0, 2048).includes(needle));
  }

  /** Messages to this recipient. */
  to(address: string): SunkMessage[] {
    return this.messages.filter((m) => m.to.map((t) => t.toLowerCase()).includes(address.toLowerCase()));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
