/**
 * command.timeouts: how long the client may take for its next command line, per phase of the
 * session (RFC 5321 4.5.3.2), measured from the moment we start waiting for the line. Unlike
 * smtp-server's socket timeout, which every received byte resets, nothing the client sends
 * extends it except a complete line: a client dripping one byte every few hundred ms is cut at
 * the phase's limit, not at the 30-minute session cap.
 *
 * | phase             | we wait for                                     | RFC 5321           | default | ceiling |
 * |-------------------|-------------------------------------------------|--------------------|---------|---------|
 * | greeting          | the first command after our 220                 | 4.5.3.2.1, 4.5.3.2.7 | 60 s  | 5 min   |
 * | mail              | any command before MAIL (EHLO, STARTTLS with its handshake, AUTH, RSET, the next MAIL after a message) | 4.5.3.2.2 | 60 s | 5 min |
 * | rcpt              | RCPT or DATA inside a transaction               | 4.5.3.2.3          | 5 min   | 5 min   |
 * | data-initiation   | the first octet of the message after our 354    | 4.5.3.2.4          | 2 min   | 2 min   |
 * | data-block        | the next octet of the message (a gap in DATA)   | 4.5.3.2.5          | 3 min   | 3 min   |
 *
 * DATA termination (4.5.3.2.6: the client waits at least 10 minutes for our reply after the
 * final dot) is our side's deadline, not the client's: the config schema keeps storeTimeoutMs +
 * verdictTimeoutMs under it. The whole DATA transfer keeps its own budget (session-limits.ts:
 * dataTimeoutMs plus the minimum data rate), which is what cuts a dripper inside DATA.
 *
 * The ceilings are the RFC's minimums for the client's side of each phase; we never wait longer.
 * Before MAIL we wait less than the RFC's 5 minutes on purpose, as Postfix (smtpd_timeout) and
 * postscreen do for a gateway facing the Internet: an MTA sends EHLO and MAIL within a few round
 * trips, and a session that holds a slot without starting a transaction is the cheapest way to
 * exhaust our slots. 60 s equals smtp-server's idle timeout (smtp.socketTimeoutMs), so an honest
 * client that is merely idle sees no change; the difference is that bytes no longer extend it.
 *
 * Under pressure (slot-reclaim.ts decides when) the pre-MAIL phases of unauthenticated sessions
 * shrink to `stressedPreMailMs` (10 s, Postfix's stress-mode smtpd_timeout), for the sessions
 * already waiting as well as for new ones.
 *
 * Expiry answers 421 4.4.2 (RFC 3463 X.4.2: could not complete "because of time-out") and
 * closes. Time during which a reply of ours is pending is never counted: the clock starts when
 * our reply (or the greeting, or the 354) has been written and stops at the client's next line.
 *
 * This module also keeps the order in which sessions started waiting, which is what slot
 * reclaiming needs: the pre-MAIL sessions that have waited longest come first.
 */
import { session } from '@portcullis/smtp-replies';
import type { SessionHandle } from './session-limits.js';
import type { LimitRefusal as Refusal } from './limit-refusals.js';
import { COMMAND_TIMEOUT_CEILINGS, DEFAULT_COMMAND_TIMEOUTS, type CommandTimeoutOptions } from './command-timeout-options.js';

export type CommandPhase = 'greeting' | 'mail' | 'rcpt' | 'data-initiation' | 'data-block';

/** What the timeouts need from the connection, beyond what the session limits need. */
export interface ConnectionHandle extends SessionHandle {
  /** The client's address (for reclaiming by IP or network, and for logs). */
  remoteAddress(): string;
  /** A successful AUTH in this session. */
  authenticated(): boolean;
  /** MAIL was accepted and the transaction is not over. */
  inTransaction(): boolean;
}

/** A session waiting for a command before MAIL: what slot reclaiming chooses from. */
export interface IdleSession {
  id: string;
  phase: 'greeting' | 'mail';
  client: string;
  waitingSinceMs: number;
  /** Closes it with the given refusal (no-op if it was closed already). */
  cut(verdict: Refusal): void;
}

export interface CommandTimeoutHooks {
  /** A session was cut by a phase timeout (metrics, logs). */
  onTimeout?: (sessionId: string, phase: CommandPhase, verdict: Refusal) => void;
}

interface WaitState {
  handle: ConnectionHandle;
  /** null while it is our turn (before the greeting, while a command is handled). */
  phase: CommandPhase | null;
  waitingSince: number;
  /** Command lines seen; 0 means the client still owes its first. */
  commands: number;
  /** DATA octets at the last look (data phases). */
  dataBytes: number;
  /** The last wait was the message transfer: the next reply ends the transaction. */
  afterData: boolean;
  timer: NodeJS.Timeout | null;
  cutBy: Refusal | null;
}

/** How often a data-block wait looks at the octet count (a gap is noticed within a quarter of the limit). */
const DATA_POLL_DIVISOR = 4;
/** While a reply of ours is unexpectedly still pending at expiry, how often to look again. */
const PENDING_RECHECK_MS = 250;

export function commandTimeoutReply(phase: CommandPhase, ms: number): Refusal {
  return { ...session.commandTimeout.refuse(phase, ms), reason: 'command-time' };
}

export class CommandTimeouts {
  readonly options: CommandTimeoutOptions;
  private readonly sessions = new Map<string, WaitState>();
  /** Sessions waiting for the client, in the order they started waiting (Map keeps insertion order). */
  private readonly waiting = new Map<string, WaitState>();
  private stressed = false;

  constructor(
    options: Partial<CommandTimeoutOptions> = {},
    private readonly hooks: CommandTimeoutHooks = {},
  ) {
    this.options = { ...DEFAULT_COMMAND_TIMEOUTS, ...options };
    for (const [key, ceiling] of Object.entries(COMMAND_TIMEOUT_CEILINGS)) {
      const value = this.options[key as keyof CommandTimeoutOptions];
      if (!(value > 0 && value <= ceiling)) throw new Error(`command timeout ${key} must be in (0, ${ceiling}] ms (RFC 5321 4.5.3.2), got ${value}`);
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get underPressure(): boolean {
    return this.stressed;
  }

  open(sessionId: string, handle: ConnectionHandle): void {
    this.close(sessionId);
    this.sessions.set(sessionId, { handle, phase: null, waitingSince: 0, commands: 0, dataBytes: 0, afterData: false, timer: null, cutBy: null });
  }

  close(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    this.stopWaiting(sessionId, state);
    this.sessions.delete(sessionId);
  }

  /** A command line arrived: our turn until we reply. */
  command(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    state.commands++;
    this.stopWaiting(sessionId, state);
  }

  /** A reply went out: the client's turn, in the phase that follows from it. */
  reply(sessionId: string, code: number): void {
    const state = this.sessions.get(sessionId);
    if (!state || state.cutBy || code === 421) return;
    const wasData = state.afterData || state.phase === 'data-initiation' || state.phase === 'data-block';
    let phase: CommandPhase;
    if (code === 354 && state.handle.dataBytes() !== null) phase = 'data-initiation';
    // The reply to the message (end of DATA) goes out before smtp-server resets the transaction.
    else if (wasData) phase = 'mail';
    else if (state.commands === 0) phase = 'greeting';
    else phase = state.handle.inTransaction() ? 'rcpt' : 'mail';
    this.startWaiting(sessionId, state, phase);
  }

  /** Listener pressure changed: pre-MAIL waits of unauthenticated sessions shrink (or grow back). */
  setUnderPressure(stressed: boolean): void {
    if (stressed === this.stressed) return;
    this.stressed = stressed;
    if (!stressed) return; // longer limits: each timer re-arms itself to the new deadline when it fires
    for (const [id, state] of this.waiting) {
      if (state.phase === 'greeting' || state.phase === 'mail') this.arm(id, state, Math.max(0, this.deadline(state) - Date.now()));
    }
  }

  /** The refusal a timeout cut the session with, if it was cut. */
  cutBy(sessionId: string): Refusal | null {
    return this.sessions.get(sessionId)?.cutBy ?? null;
  }

  /**
   * Unauthenticated sessions waiting for a command before MAIL, the longest-waiting first. A session
   * whose reply is pending, in a transaction, or authenticated is never listed.
   */
  *idleBeforeMail(): Generator<IdleSession> {
    for (const [id, state] of this.waiting) {
      const phase = state.phase;
      if ((phase !== 'greeting' && phase !== 'mail') || state.cutBy) continue;
      const h = state.handle;
      if (h.authenticated() || h.inTransaction() || !h.awaitingClient()) continue;
      yield {
        id,
        phase,
        client: h.remoteAddress(),
        waitingSinceMs: state.waitingSince,
        cut: (verdict) => this.cut(id, state, verdict),
      };
    }
  }

  // ------------------------------------------------------------------------------------------------

  private limitFor(state: WaitState, phase: CommandPhase): number {
    const o = this.options;
    switch (phase) {
      case 'greeting':
      case 'mail': {
        const normal = phase === 'greeting' ? o.greetingMs : o.mailMs;
        return this.stressed && !state.handle.authenticated() ? Math.min(normal, o.stressedPreMailMs) : normal;
      }
      case 'rcpt':
        return o.rcptMs;
      case 'data-initiation':
        return o.dataInitiationMs;
      case 'data-block':
        return o.dataBlockMs;
    }
  }

  private deadline(state: WaitState): number {
    return state.phase ? state.waitingSince + this.limitFor(state, state.phase) : Infinity;
  }

  private startWaiting(id: string, state: WaitState, phase: CommandPhase): void {
    this.stopWaiting(id, state);
    state.afterData = false;
    state.phase = phase;
    state.waitingSince = Date.now();
    state.dataBytes = 0;
    this.waiting.set(id, state);
    const limit = this.limitFor(state, phase);
    this.arm(id, state, phase === 'data-initiation' || phase === 'data-block' ? Math.min(limit, this.dataPoll()) : limit);
  }

  private stopWaiting(id: string, state: WaitState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    // Remember whether the wait we leave was the message transfer (see reply()).
    state.afterData = state.phase === 'data-initiation' || state.phase === 'data-block';
    state.phase = null;
    state.dataBytes = 0;
    this.waiting.delete(id);
  }

  private dataPoll(): number {
    return Math.max(1, Math.floor(this.options.dataBlockMs / DATA_POLL_DIVISOR));
  }

  private arm(id: string, state: WaitState, ms: number): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => this.onTimer(id), Math.max(1, Math.ceil(ms))).unref();
  }

  private onTimer(id: string): void {
    const state = this.sessions.get(id);
    if (!state || !state.phase || state.cutBy) return;
    state.timer = null;
    const now = Date.now();
    if (state.phase === 'data-initiation' || state.phase === 'data-block') return this.onDataTimer(id, state, now);
    const left = this.deadline(state) - now;
    if (left >= 1) return this.arm(id, state, left);
    // A reply of ours still pending (a handler that answers later): not the client's time.
    if (!state.handle.awaitingClient()) return this.arm(id, state, PENDING_RECHECK_MS);
    this.expire(id, state, state.phase);
  }

  private onDataTimer(id: string, state: WaitState, now: number): void {
    const phase = state.phase as 'data-initiation' | 'data-block';
    const received = state.handle.dataBytes();
    if (received === null) {
      // The transfer is over (the final dot came): the reply is ours to give (DATA termination).
      // Leave the wait; the reply that follows starts the next phase.
      this.stopWaiting(id, state);
      return;
    }
    if (received > state.dataBytes) {
      // Progress since the last look: a new data block starts now.
      state.phase = 'data-block';
      state.dataBytes = received;
      state.waitingSince = now;
      return this.arm(id, state, this.dataPoll());
    }
    const left = this.deadline(state) - now;
    if (left >= 1) return this.arm(id, state, Math.min(left, this.dataPoll()));
    this.expire(id, state, phase);
  }

  private expire(id: string, state: WaitState, phase: CommandPhase): void {
    const verdict = commandTimeoutReply(phase, this.limitFor(state, phase));
    this.cut(id, state, verdict);
    this.hooks.onTimeout?.(id, phase, verdict);
  }

  private cut(id: string, state: WaitState, verdict: Refusal): void {
    if (state.cutBy) return;
    state.cutBy = verdict;
    this.stopWaiting(id, state);
    state.handle.cut(verdict);
  }
}
