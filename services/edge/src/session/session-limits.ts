import { LimitRefusals, type LimitRefusal, type LimitVerdict } from './limit-refusals.js';

/**
 * session.limits: what one SMTP connection may cost us, counted per connection (keyed by
 * smtp-server's session id, which is the connection's id and stable for its whole life).
 *
 * smtp-server bounds little of this itself: 10 unrecognised commands (hard-coded), command
 * lines (maxCommandLength, 16 KiB by default), unauthenticated commands where AUTH is required
 * (maxAllowedUnauthenticatedCommands), SIZE at MAIL and at end of DATA (size + rejectOversized),
 * and an idle socket timeout that every received byte resets. A client that keeps sending
 * something (NOOPs, errors, one byte every few hundred ms, message after message) is never cut
 * off. These limits do:
 *
 * | limit            | when                                   | reply                 |
 * |------------------|----------------------------------------|-----------------------|
 * | commands         | the command after maxCommands          | 421 4.7.0, close      |
 * | errors           | the command after maxErrors error replies | 421 4.7.0, close   |
 * | messages         | MAIL after maxMessages messages        | 421 4.7.0, close      |
 * | session time     | sessionTimeoutMs after connect         | 421 4.4.2, close      |
 * | DATA time        | dataTimeoutMs (+ received/rate) after 354 | 421 4.4.2, close   |
 * | SIZE at MAIL     | declared SIZE over maxMessageBytes      | 552 5.3.4             |
 * | size at DATA end | more than the declared SIZE or the limit | 552 5.3.4            |
 *
 * Why these codes: 421 is RFC 5321's "closing the transmission channel" (3.8, 4.2.2); a client
 * must treat it as temporary and may come back later on a new connection, which is the point of
 * a per-connection limit. X.7.0 (RFC 3463, other security/policy status) is what these are:
 * policy limits, not a fault of ours; Postfix uses 421 4.7.0 for its error limit. For
 * messages per connection 452 4.3.1 would be wrong: it says our storage is full (it is not)
 * and keeps the client on the same connection to try again, where 421 sends it to a new one
 * (which then passes the connection-level checks again). Time limits are X.4.2 (RFC 3463: the
 * connection could not complete the transaction "because of time-out"), as smtp-server and
 * Postfix use for their timeouts. SIZE is RFC 1870 section 6.1: 552, X.3.4 (message too big).
 *
 * This module keeps the counts and the timers and decides; it knows nothing of smtp-server.
 * session-guard.ts feeds it every command line and reply and gives it a SessionHandle to act
 * on the connection when a timer runs out; the MAIL and DATA checks are called from the
 * server's onMailFrom and onData.
 */

export interface SessionLimitOptions {
  /**
   * Command lines per connection (every line read outside DATA, AUTH continuations included).
   * Keep it above maxMessages × (maxRecipients + 4) so a busy honest sender never meets it. 0: no limit.
   */
  maxCommands: number;
  /** Error replies (4xx/5xx other than 421) per connection; the command after the last one gets 421. 0: no limit. */
  maxErrors: number;
  /** Messages (DATA transfers started) per connection; the next MAIL gets 421. 0: no limit. */
  maxMessages: number;
  /** Whole connection, from accept to close. 0: no limit. */
  sessionTimeoutMs: number;
  /** From the 354 to the client's CRLF.CRLF. 0: no limit. */
  dataTimeoutMs: number;
  /**
   * Every octet received extends the DATA deadline by 1000/rate ms (as Postfix's
   * smtpd_min_data_rate does), so a slow but honest client with a large message is not cut off
   * while a client dripping a byte every few hundred ms is cut at about dataTimeoutMs. 0: fixed.
   */
  dataMinBytesPerSecond: number;
  /** The fixed maximum message size (RFC 1870), the same as smtp-server's `size`. */
  maxMessageBytes: number;
  /**
   * Refuse a message larger than the SIZE its client declared (552 5.3.4). RFC 1870 calls the
   * declaration "the client's estimate", so an honest client can be off; turn this off if
   * legitimate senders are refused by it (the fixed limit still applies).
   */
  enforceDeclaredSize: boolean;
}

export const DEFAULT_SESSION_LIMITS: SessionLimitOptions = {
  maxCommands: 20_000,
  maxErrors: 20,
  maxMessages: 100,
  sessionTimeoutMs: 30 * 60_000,
  dataTimeoutMs: 5 * 60_000,
  dataMinBytesPerSecond: 4096,
  maxMessageBytes: 25 * 1024 * 1024,
  enforceDeclaredSize: true,
};

/** What the limits need from the connection; session-guard.ts makes one from smtp-server's connection. */
export interface SessionHandle {
  /** True when no reply of ours is pending: the client is idle at the prompt or sending DATA. */
  awaitingClient(): boolean;
  /** Octets of DATA received so far while the client is between 354 and CRLF.CRLF; null otherwise. */
  dataBytes(): number | null;
  /** Sends the refusal, closes the connection and aborts a DATA stream in progress. */
  cut(refusal: LimitRefusal): void;
}

export interface SessionLimitHooks {
  /** Every refusal a limit produced (for logs and metrics). */
  onLimit?: (sessionId: string, refusal: LimitRefusal) => void;
}

interface SessionState {
  handle: SessionHandle | null;
  commands: number;
  errors: number;
  messages: number;
  /** The session time ran out while a reply of ours was pending; cut at the next chance. */
  expired: boolean;
  sessionTimer: NodeJS.Timeout | null;
  dataTimer: NodeJS.Timeout | null;
  dataStartedAt: number;
  cutBy: LimitRefusal | null;
}

const OK: LimitVerdict = { ok: true };
/** While a reply of ours is pending past the session deadline, how often to look again. */
const EXPIRED_RECHECK_MS = 250;

/** The SIZE= a client declared in MAIL FROM (RFC 1870), when it declared a valid one. */
export function declaredSize(mailFrom: unknown): number | undefined {
  if (!mailFrom || typeof mailFrom !== 'object') return undefined;
  const args = (mailFrom as { args?: unknown }).args;
  if (!args || typeof args !== 'object') return undefined;
  const size = (args as Record<string, unknown>).SIZE;
  if (typeof size !== 'string' || !/^\d{1,20}$/.test(size)) return undefined;
  return Number(size);
}

export class SessionLimits {
  readonly options: SessionLimitOptions;
  private readonly sessions = new Map<string, SessionState>();

  constructor(
    options: Partial<SessionLimitOptions> = {},
    private readonly hooks: SessionLimitHooks = {},
  ) {
    this.options = { ...DEFAULT_SESSION_LIMITS, ...options };
  }

  /** Sessions being tracked (opened and not yet closed). */
  get size(): number {
    return this.sessions.size;
  }

  /** A connection started; arms its session timer. */
  open(sessionId: string, handle: SessionHandle | null = null): void {
    this.close(sessionId);
    const state: SessionState = {
      handle,
      commands: 0,
      errors: 0,
      messages: 0,
      expired: false,
      sessionTimer: null,
      dataTimer: null,
      dataStartedAt: 0,
      cutBy: null,
    };
    this.sessions.set(sessionId, state);
    if (this.options.sessionTimeoutMs > 0 && handle) {
      state.sessionTimer = setTimeout(() => this.onSessionTimer(sessionId), this.options.sessionTimeoutMs).unref();
    }
  }

  /** The connection is gone: timers cleared, state forgotten. Safe to call more than once. */
  close(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    if (state.sessionTimer) clearTimeout(state.sessionTimer);
    if (state.dataTimer) clearTimeout(state.dataTimer);
    this.sessions.delete(sessionId);
  }

  /** Counts so far, for logs and tests. */
  stats(sessionId: string): { commands: number; errors: number; messages: number } | undefined {
    const s = this.sessions.get(sessionId);
    return s && { commands: s.commands, errors: s.errors, messages: s.messages };
  }

  /** The refusal a timer cut the session with, if it was cut (e.g. to log why a DATA stream broke off). */
  cutBy(sessionId: string): LimitRefusal | null {
    return this.sessions.get(sessionId)?.cutBy ?? null;
  }

  /** Before each command line is handled. A refusal is the reply instead of handling it (421: then close). */
  command(sessionId: string): LimitVerdict {
    const state = this.sessions.get(sessionId);
    if (!state) return OK;
    // A command means the DATA transfer, if any, is over.
    if (state.dataTimer) {
      clearTimeout(state.dataTimer);
      state.dataTimer = null;
    }
    if (state.expired) return this.refuse(sessionId, LimitRefusals.sessionTime());
    const { maxErrors, maxCommands } = this.options;
    if (maxErrors > 0 && state.errors >= maxErrors) return this.refuse(sessionId, LimitRefusals.errors());
    state.commands++;
    if (maxCommands > 0 && state.commands > maxCommands) return this.refuse(sessionId, LimitRefusals.commands());
    return OK;
  }

  /** After each reply written to the client. */
  reply(sessionId: string, code: number): void {
    if (code < 400 || code === 421) return;
    const state = this.sessions.get(sessionId);
    if (state) state.errors++;
  }

  /** In onMailFrom: messages per connection, then the declared SIZE (RFC 1870 6.1). */
  mail(sessionId: string, mailFrom: unknown): LimitVerdict {
    const state = this.sessions.get(sessionId);
    const { maxMessages, maxMessageBytes } = this.options;
    if (state && maxMessages > 0 && state.messages >= maxMessages) return this.refuse(sessionId, LimitRefusals.messages(maxMessages));
    const declared = declaredSize(mailFrom);
    if (declared !== undefined && declared > maxMessageBytes) return this.refuse(sessionId, LimitRefusals.sizeDeclared(declared, maxMessageBytes));
    return OK;
  }

  /** The 354 went out: one more message on this connection, and the DATA clock starts. */
  dataStarted(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    state.messages++;
    if (state.dataTimer) clearTimeout(state.dataTimer);
    state.dataTimer = null;
    state.dataStartedAt = Date.now();
    if (this.options.dataTimeoutMs > 0 && state.handle) {
      state.dataTimer = setTimeout(() => this.onDataTimer(sessionId), this.options.dataTimeoutMs).unref();
    }
  }

  /**
   * The most octets worth buffering for the message: the fixed limit, or the declared SIZE when
   * the client declared less (RFC 1870 lets the server hold the client to its declaration).
   */
  messageByteLimit(mailFrom: unknown): number {
    const declared = this.options.enforceDeclaredSize ? declaredSize(mailFrom) : undefined;
    return declared === undefined ? this.options.maxMessageBytes : Math.min(declared, this.options.maxMessageBytes);
  }

  /**
   * At the end of DATA, with the octets received (the data stream's byteLength: after removing
   * dot-stuffing, before any normalisation, which is how RFC 1870 section 3 counts them).
   */
  checkMessageSize(sessionId: string, received: number, mailFrom: unknown): LimitVerdict {
    const limit = this.options.maxMessageBytes;
    if (received > limit) return this.refuse(sessionId, LimitRefusals.sizeLimit(limit));
    const declared = this.options.enforceDeclaredSize ? declaredSize(mailFrom) : undefined;
    if (declared !== undefined && received > declared) return this.refuse(sessionId, LimitRefusals.sizeOverDeclared(received, declared));
    return OK;
  }

  private refuse(sessionId: string, refusal: LimitRefusal): LimitVerdict {
    this.hooks.onLimit?.(sessionId, refusal);
    return { ok: false, refusal };
  }

  private cut(sessionId: string, state: SessionState, refusal: LimitRefusal): void {
    if (state.cutBy) return;
    state.cutBy = refusal;
    if (state.sessionTimer) clearTimeout(state.sessionTimer);
    if (state.dataTimer) clearTimeout(state.dataTimer);
    state.sessionTimer = state.dataTimer = null;
    this.refuse(sessionId, refusal);
    state.handle?.cut(refusal);
  }

  private onSessionTimer(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state || !state.handle || state.cutBy) return;
    state.sessionTimer = null;
    if (state.handle.awaitingClient()) return this.cut(sessionId, state, LimitRefusals.sessionTime());
    // A reply of ours is pending (e.g. the durable write at end of DATA): cutting now could leave
    // a stored message unanswered. Refuse the next command, and cut as soon as the reply is out.
    state.expired = true;
    state.sessionTimer = setTimeout(() => this.onSessionTimer(sessionId), EXPIRED_RECHECK_MS).unref();
  }

  private onDataTimer(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state || !state.handle || state.cutBy) return;
    state.dataTimer = null;
    const received = state.handle.dataBytes();
    if (received === null) return; // the transfer is over; what remains is our own processing
    const { dataTimeoutMs, dataMinBytesPerSecond } = this.options;
    const credit = dataMinBytesPerSecond > 0 ? (received * 1000) / dataMinBytesPerSecond : 0;
    const remaining = state.dataStartedAt + dataTimeoutMs + credit - Date.now();
    if (remaining >= 1) {
      state.dataTimer = setTimeout(() => this.onDataTimer(sessionId), Math.ceil(remaining)).unref();
      return;
    }
    this.cut(sessionId, state, LimitRefusals.dataTime());
  }
}
