/**
 * slot.reclaim: when a listener's connection slots run short, make room for the newcomer by
 * closing the sessions that cost us a slot and give nothing back, instead of refusing it.
 *
 * Without this, 500 sessions that connect and say nothing (or drip a byte now and then) fill
 * smtp.maxClients and every legitimate sender gets 421 until they time out. Postfix answers the
 * same attack with its stress mode (shorter timeouts once its process limit is reached); we do
 * that too (command-timeouts.ts shrinks the pre-MAIL limits) and also reclaim:
 *
 * - Pressure: a listener is under pressure from the moment its open sessions reach
 *   `stressAtFraction` of maxClients until they fall below 90% of that; its unauthenticated
 *   pre-MAIL waits then shrink to `smtp.commandTimeouts.stressedPreMailMs`.
 * - Reclaim: when a new connection takes the open sessions above `atFraction` of maxClients, the
 *   sessions that have waited longest for a command before MAIL are closed with 421 4.7.0
 *   ("server busy") until the count is back at the fraction. The same happens, one session at a
 *   time, when flow control's cluster-wide caps (flow.perIp.connections,
 *   flow.perNetwork.connections) are full for a newcomer: a session of this edge from the same
 *   IP or network makes way for it (flow-control.ts asks through makeRoom).
 *
 * Never reclaimed: sessions in a transaction (MAIL accepted), authenticated sessions, sessions
 * whose reply is pending (greeting not yet sent, a handler running), and clients on flow.allow.
 * Longest waiting first, not oldest connected: the wait is measured from our last reply and a
 * byte does not reset it, so an honest client (which answers within a round trip) is the last to
 * go, while an idler or a dripper climbs to the front. Enhanced code X.7.0 (RFC 3463: other
 * security or policy status) as for our other policy limits; 421 tells the client to come back.
 *
 * This module decides and counts; it knows nothing of smtp-server. session-guard.ts reports each
 * accepted and closed connection with the listener's count of open sessions.
 */
import { session } from '@portcullis/smtp-replies';
import type { LimitRefusal } from './limit-refusals.js';
import type { CommandTimeouts, IdleSession } from './command-timeouts.js';

export interface ReclaimOptions {
  /** Reclaim idle pre-MAIL sessions when slots run short (false: newcomers are refused as before). */
  enabled: boolean;
  /** Reclaim when a new connection takes a listener's open sessions above this fraction of maxClients. */
  atFraction: number;
  /** Pre-MAIL timeouts shrink while a listener's open sessions are at least this fraction of maxClients. */
  stressAtFraction: number;
}

/** Pressure ends when the open sessions fall below this share of the stressAtFraction count. */
const PRESSURE_OFF_RATIO = 0.9;

export const DEFAULT_RECLAIM_OPTIONS: ReclaimOptions = { enabled: true, atFraction: 0.9, stressAtFraction: 0.8 };

export type ReclaimReason = 'max-clients' | 'perIp.connections' | 'perNetwork.connections';

export interface ReclaimEvent {
  listener: string;
  sessionId: string;
  client: string;
  phase: IdleSession['phase'];
  /** How long it had been waiting for a command. */
  idleMs: number;
  reason: ReclaimReason;
}

export interface SlotReclaimDeps {
  /** Clients never reclaimed (flow.allow). */
  exempt?: (ip: string) => boolean;
  onReclaim?: (event: ReclaimEvent) => void;
  onPressure?: (listener: string, underPressure: boolean) => void;
}

export function reclaimReply(): LimitRefusal {
  return { ...session.reclaimed.refuse(), reason: 'reclaimed' };
}

export class ListenerSlots {
  private underPressure = false;

  constructor(
    readonly name: string,
    readonly timeouts: CommandTimeouts,
    readonly capacity: number,
    private readonly owner: SlotReclaim,
  ) {}

  /** A connection was accepted; `open` counts it. Makes room if needed, then updates the pressure. */
  admitted(open: number): void {
    const { enabled, atFraction } = this.owner.options;
    const excess = open - Math.max(1, Math.floor(atFraction * this.capacity));
    let reclaimed = 0;
    if (enabled && excess > 0) {
      for (const victim of this.candidates()) {
        if (reclaimed >= excess) break;
        this.owner.reclaim(this, victim, 'max-clients');
        reclaimed++;
      }
    }
    this.update(open - reclaimed);
  }

  /** A connection went away; `open` no longer counts it. */
  released(open: number): void {
    this.update(open);
  }

  /** Reclaimable sessions of this listener, longest waiting first. */
  *candidates(): Generator<IdleSession> {
    for (const s of this.timeouts.idleBeforeMail()) if (!this.owner.isExempt(s.client)) yield s;
  }

  private update(open: number): void {
    // On at the fraction, off only below 90% of it: a count hovering at the line does not flap.
    const on = this.owner.options.stressAtFraction * this.capacity;
    const stressed = open >= (this.underPressure ? on * PRESSURE_OFF_RATIO : on);
    if (stressed === this.underPressure) return;
    this.underPressure = stressed;
    this.timeouts.setUnderPressure(stressed);
    this.owner.pressureChanged(this.name, stressed);
  }
}

export class SlotReclaim {
  readonly options: ReclaimOptions;
  private readonly listeners: ListenerSlots[] = [];

  constructor(
    options: Partial<ReclaimOptions> = {},
    private readonly deps: SlotReclaimDeps = {},
  ) {
    this.options = { ...DEFAULT_RECLAIM_OPTIONS, ...options };
  }

  /** The slots of one listener (one SMTPServer with its own maxClients). */
  forListener(name: string, timeouts: CommandTimeouts, capacity: number): ListenerSlots {
    const slots = new ListenerSlots(name, timeouts, capacity, this);
    this.listeners.push(slots);
    return slots;
  }

  /**
   * Flow control's connection cap is full for a newcomer: closes the longest-waiting reclaimable
   * session of this edge (any listener) whose client `matches` (same IP or network). Returns its
   * session id, so that its slot can be released at once, or null when there is none.
   */
  makeRoom(reason: Exclude<ReclaimReason, 'max-clients'>, matches: (ip: string) => boolean): string | null {
    if (!this.options.enabled) return null;
    let best: { slots: ListenerSlots; victim: IdleSession } | null = null;
    for (const slots of this.listeners) {
      for (const victim of slots.candidates()) {
        if (!matches(victim.client)) continue;
        if (!best || victim.waitingSinceMs < best.victim.waitingSinceMs) best = { slots, victim };
        break; // each listener lists longest-waiting first
      }
    }
    if (!best) return null;
    this.reclaim(best.slots, best.victim, reason);
    return best.victim.id;
  }

  isExempt(ip: string): boolean {
    return this.deps.exempt?.(ip) ?? false;
  }

  reclaim(slots: ListenerSlots, victim: IdleSession, reason: ReclaimReason): void {
    const idleMs = Date.now() - victim.waitingSinceMs;
    victim.cut(reclaimReply());
    try {
      this.deps.onReclaim?.({ listener: slots.name, sessionId: victim.id, client: victim.client, phase: victim.phase, idleMs, reason });
    } catch {
      // a metrics or log hook must not stop the reclaim
    }
  }

  pressureChanged(listener: string, underPressure: boolean): void {
    try {
      this.deps.onPressure?.(listener, underPressure);
    } catch {
      // as above
    }
  }
}
