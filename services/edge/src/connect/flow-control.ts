/**
 * Flow control at the edge, shared by every replica through SharedState (Redis in production):
 * allow and deny lists of networks, concurrent connections, and per-minute rates of connections,
 * messages and recipients, each per client IP and per client network (/24 IPv4, /64 IPv6 by default).
 *
 * Where it is called in the SMTP conversation:
 *   onConnect(ip, sessionId)  before the greeting: deny list, connection rate, concurrent connections
 *   onMailFrom(ip)            MAIL FROM: message rate
 *   onRcptTo(ip)              RCPT TO: recipient rate
 *   onClose(sessionId)        always, for every connection onConnect saw (refused ones included)
 *
 * Concurrent connections are leases, not a counter. A counter (INCR at connect, DECR at close)
 * leaks a slot for every connection of an edge that dies, and a TTL on the counter does not help:
 * while any connection from that client lives the TTL keeps being refreshed, so a busy client's
 * leaked slots never come back. Instead each connection is a member of a sorted set per IP and per
 * network, with its own expiry, which this instance renews while the connection lives (every
 * leaseSeconds/3). A crashed edge stops renewing, and its members drop out after at most
 * leaseSeconds; a close lost to a Redis outage likewise heals itself. Acquiring is one Lua script
 * over both keys (all or nothing), so two replicas never both take the last slot.
 *
 * When a connection cap is full for a newcomer, `makeRoom` (slot-reclaim.ts) may close an idle
 * session of this instance from the same IP or network that has not started a transaction; its
 * slot is released at once and the newcomer tries again (a few times at most, since another
 * replica may take the freed slot first). The connection rate is counted once either way.
 *
 * Redis failures fail open (allow, and report through onStateError): a broken Redis must not stop
 * the mail. A connection admitted during an outage is still tracked, and its renewal puts its lease
 * in place once Redis is back.
 */
import { randomUUID } from 'node:crypto';
import type { SharedState } from '@portcullis/state';
import { clientAddress, networkOf, NetworkList, type ClientAddress } from '@portcullis/networks';
import { because, connect, mail, rcpt, type Counted, type Refusal } from '@portcullis/smtp-replies';
import type { FlowLimits, FlowOptions } from './flow-options.js';

/** The catalogue entries of the per-minute rates: each names whom it counted and the limit. */
type RateEntry = typeof connect.rate | typeof mail.rate | typeof rcpt.rate;

/** Fixed-window length of the *PerMinute rates. */
export const RATE_WINDOW_SECONDS = 60;

/** A refusal's reason is the rule that refused, e.g. "deny", "perIp.connections", "perNetwork.messagesPerMinute". */
export type FlowVerdict = { action: 'allow' } | { action: 'refuse'; refusal: Refusal };

export type FlowRule = 'deny' | `${'perIp' | 'perNetwork'}.${keyof FlowLimits}`;

export interface FlowControlDeps {
  state: SharedState;
  options: FlowOptions;
  /** Called when the state store fails and a check failed open (rule is the check, e.g. "connectionsPerMinute"). */
  onStateError?: (rule: string, err: Error) => void;
  /** Distinguishes this instance's connections from other replicas' (default: a random UUID). */
  replicaId?: string;
  /**
   * A connection cap is full for a newcomer: close one of this instance's sessions whose client
   * `matches` (same IP or same network) to make room; returns its session id, or null if none
   * may go. Without it a full cap refuses the newcomer.
   */
  makeRoom?: (rule: 'perIp.connections' | 'perNetwork.connections', matches: (ip: string) => boolean) => string | null;
}

/** Sessions reclaimed for one newcomer at most (another replica may take a freed slot first). */
const MAX_ROOM_ATTEMPTS = 3;

const ALLOW: FlowVerdict = { action: 'allow' };

type RateKind = 'connectionsPerMinute' | 'messagesPerMinute' | 'recipientsPerMinute';

interface Held {
  keys: string[];
  member: string;
  /** Set once the slot is taken (or the acquire failed open): only then may a renewal (re)create it. */
  renew: boolean;
}

export class FlowControl {
  private readonly allow: NetworkList;
  private readonly deny: NetworkList;
  private readonly replicaId: string;
  /** Connections this instance admitted (or is admitting), by session id. */
  private readonly held = new Map<string, Held>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(private readonly deps: FlowControlDeps) {
    this.allow = new NetworkList(deps.options.allow);
    this.deny = new NetworkList(deps.options.deny);
    this.replicaId = deps.replicaId ?? randomUUID();
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, (deps.options.leaseSeconds * 1000) / 3));
    this.timer.unref();
  }

  /** True when the allow list covers ip (more specifically than the deny list): no limits apply. */
  isAllowListed(ip: string): boolean {
    const addr = clientAddress(ip);
    return addr !== null && this.listed(addr) === 'allow';
  }

  /** How many connections this instance holds slots for. */
  get openConnections(): number {
    return this.held.size;
  }

  /**
   * Before the greeting. A refusal is the reply to send instead of 220 (then close); onClose must
   * still be called for the session.
   */
  async onConnect(ip: string, sessionId: string): Promise<FlowVerdict> {
    const addr = clientAddress(ip);
    if (!addr) return ALLOW; // not an IP client (e.g. a Unix socket): nothing to count by
    const listed = this.listed(addr);
    if (listed === 'deny') {
      return { action: 'refuse', refusal: because(connect.denied.refuse(addr.ip), 'deny') };
    }
    if (listed === 'allow') return ALLOW;

    const { perIp, perNetwork, leaseSeconds } = this.deps.options;
    const net = networkOf(addr, this.prefix);
    const slots: Array<{ key: string; limit: number; rule: FlowRule; who: Counted }> = [];
    if (perIp.connections > 0) slots.push({ key: `flow:connections:ip:${addr.ip}`, limit: perIp.connections, rule: 'perIp.connections', who: { ip: addr.ip } });
    if (perNetwork.connections > 0) slots.push({ key: `flow:connections:net:${net}`, limit: perNetwork.connections, rule: 'perNetwork.connections', who: { network: net } });
    // Registered before the first await, so that an onClose arriving meanwhile finds (and ends) it.
    const entry: Held = { keys: slots.map((s) => s.key), member: `${this.replicaId}:${sessionId}`, renew: false };
    if (slots.length > 0) this.held.set(sessionId, entry);
    const forget = () => {
      if (this.held.get(sessionId) === entry) this.held.delete(sessionId);
    };

    const rate = await this.rate('connectionsPerMinute', addr, connect.rate);
    if (rate.action === 'refuse' || slots.length === 0) {
      if (rate.action === 'refuse') forget();
      return rate;
    }
    if (this.held.get(sessionId) !== entry) return ALLOW; // closed already
    if (this.unhealthy('connections')) {
      entry.renew = true; // the renewal takes the slot once the state is back
      return ALLOW;
    }
    let full = -1;
    for (let attempt = 0; ; attempt++) {
      try {
        full = await this.deps.state.leaseAcquire(
          entry.keys,
          slots.map((s) => s.limit),
          entry.member,
          leaseSeconds,
        );
      } catch (err) {
        this.report('connections', err);
        entry.renew = true;
        return ALLOW;
      }
      if (this.held.get(sessionId) !== entry) {
        // Closed while we were acquiring: give the slot back (again, in case the release overtook us).
        if (full < 0) await this.release(entry);
        return ALLOW;
      }
      if (full < 0) {
        entry.renew = true;
        return ALLOW;
      }
      const rule = slots[full]!.rule as 'perIp.connections' | 'perNetwork.connections';
      const victim = attempt < MAX_ROOM_ATTEMPTS ? this.deps.makeRoom?.(rule, this.sameAs(rule, addr, net)) : null;
      if (!victim) break;
      await this.onClose(victim); // its slot, now, rather than when its socket has closed
    }
    forget();
    const slot = slots[full]!;
    return { action: 'refuse', refusal: because(connect.concurrent.refuse(slot.who, slot.limit), slot.rule) };
  }

  /** MAIL FROM: counts a message attempt. Refusal: 450 4.7.1. */
  async onMailFrom(ip: string): Promise<FlowVerdict> {
    const addr = clientAddress(ip);
    if (!addr || this.listed(addr) !== null) return ALLOW; // deny-listed clients never get this far
    return this.rate('messagesPerMinute', addr, mail.rate);
  }

  /** RCPT TO: counts a recipient. Refusal: 450 4.7.1. */
  async onRcptTo(ip: string): Promise<FlowVerdict> {
    const addr = clientAddress(ip);
    if (!addr || this.listed(addr) !== null) return ALLOW;
    return this.rate('recipientsPerMinute', addr, rcpt.rate);
  }

  /** The connection ended (whatever the reason): frees its slots. Never throws. */
  async onClose(sessionId: string): Promise<void> {
    const entry = this.held.get(sessionId);
    if (!entry) return;
    this.held.delete(sessionId);
    await this.release(entry);
  }

  /** Stops renewing and gives back every slot this instance holds. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map((e) => this.release(e)));
  }

  // ------------------------------------------------------------------------------------------------

  private get prefix(): { ipv4: number; ipv6: number } {
    const n = this.deps.options.perNetwork;
    return { ipv4: n.ipv4PrefixLength, ipv6: n.ipv6PrefixLength };
  }

  /** Whether another client counts against the same connection cap (same IP, or same network). */
  private sameAs(rule: 'perIp.connections' | 'perNetwork.connections', addr: ClientAddress, net: string): (ip: string) => boolean {
    return (ip) => {
      const other = clientAddress(ip);
      if (!other) return false;
      return rule === 'perIp.connections' ? other.ip === addr.ip : networkOf(other, this.prefix) === net;
    };
  }

  private listed(addr: ClientAddress): 'allow' | 'deny' | null {
    const d = this.deny.longestMatch(addr);
    const a = this.allow.longestMatch(addr);
    if (d >= 0 && d >= a) return 'deny';
    if (a >= 0) return 'allow';
    return null;
  }

  private async rate(kind: RateKind, addr: ClientAddress, entry: RateEntry): Promise<FlowVerdict> {
    const { perIp, perNetwork } = this.deps.options;
    const net = networkOf(addr, this.prefix);
    const checks: Array<{ key: string; limit: number; rule: FlowRule; who: Counted }> = [];
    if (perIp[kind] > 0) checks.push({ key: `flow:${kind}:ip:${addr.ip}`, limit: perIp[kind], rule: `perIp.${kind}`, who: { ip: addr.ip } });
    if (perNetwork[kind] > 0) checks.push({ key: `flow:${kind}:net:${net}`, limit: perNetwork[kind], rule: `perNetwork.${kind}`, who: { network: net } });
    if (checks.length === 0 || this.unhealthy(kind)) return ALLOW;
    let counts: number[];
    try {
      counts = await Promise.all(checks.map((c) => this.deps.state.incr(c.key, RATE_WINDOW_SECONDS)));
    } catch (err) {
      this.report(kind, err);
      return ALLOW;
    }
    const over = checks.findIndex((c, i) => counts[i]! > c.limit);
    if (over < 0) return ALLOW;
    const c = checks[over]!;
    return { action: 'refuse', refusal: because(entry.refuse(c.who, c.limit), c.rule) };
  }

  private async release(entry: Held): Promise<void> {
    try {
      await this.deps.state.leaseRelease(entry.keys, entry.member);
    } catch (err) {
      this.report('connections', err); // the lease lapses on its own within leaseSeconds
    }
  }

  private async renewAll(): Promise<void> {
    if (this.renewing || this.held.size === 0 || this.unhealthy('connections')) return;
    this.renewing = true;
    try {
      const results = await Promise.allSettled(
        [...this.held.values()].filter((e) => e.renew).map((e) => this.deps.state.leaseRenew(e.keys, e.member, this.deps.options.leaseSeconds)),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) this.report('connections', failed.reason);
    } finally {
      this.renewing = false;
    }
  }

  /** A store that says it is down is not waited for (each command would take its full timeout). */
  private unhealthy(rule: string): boolean {
    const problem = this.deps.state.unhealthy();
    if (problem === null) return false;
    this.report(rule, new Error(problem));
    return true;
  }

  private report(rule: string, err: unknown): void {
    try {
      this.deps.onStateError?.(rule, err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a failing hook must not turn fail-open into a throw
    }
  }
}
