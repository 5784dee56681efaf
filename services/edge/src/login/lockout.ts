/**
 * AUTH brute-force lockout, shared by every replica through SharedState (Redis in production).
 *
 * Failed AUTH attempts are counted per client IP and per username (lower-cased; stored only as a
 * hash) in a fixed window. When an IP reaches maxFailures, or any IP fails for a username that has
 * reached maxFailuresPerUser (a password spray from many addresses), that IP is banned. A ban lasts
 * banSeconds × 2^(offences − 1), capped at maxBanSeconds, where offences counts this IP's bans in
 * the last offenceMemorySeconds (refreshed by each new ban). Bans are keys with a TTL: every replica
 * sees them at once and they expire by themselves. The username is never locked itself: that would
 * let anybody lock a real user out.
 *
 * Where it is called in the SMTP conversation:
 *   checkConnect(ip)             before the greeting (after flow control): banned → 421 4.7.0, close
 *   checkLoginAllowed(ip)         at AUTH, before the credentials are checked: banned → 421 4.7.0, close;
 *                                state unavailable → 454 4.7.0 (fail closed)
 *   recordFailure(ip, username)  after credentials were refused (not after "source unavailable"):
 *                                allow → answer 535 5.7.8 as usual; refuse → this attempt earned
 *                                the ban, answer 421 4.7.0 and close
 *
 * Why 421 for a banned client at AUTH rather than 535 or 454: 535 ("credentials invalid") would be
 * a lie that makes a real user's client ask for a new password, and would leave an attacker's
 * session open for more guesses; 454 invites an immediate retry in the same session. The ban is on
 * the address, nothing can succeed in this session, so 421 ends it (smtp-server closes after a 421).
 *
 * Failure policy: if the state store fails, AUTH is refused (454 4.7.0, fail closed: an attacker
 * must not get unlimited guesses by breaking Redis), but connections are not refused, so plain MX
 * traffic keeps flowing. Trusted networks and the flow allow list are never counted nor banned, and
 * need no state to be allowed.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SharedState } from '@portcullis/state';
import { clientAddress, NetworkList, type ClientAddress } from '@portcullis/networks';
import { because, login, type Refusal } from '@portcullis/smtp-replies';

export interface LockoutOptions {
  /** Failed AUTH attempts from one IP within the window; the one that reaches it bans the IP. */
  maxFailures: number;
  /** Failed AUTH attempts for one username (from any IPs) within the window; past it each failing IP is banned. */
  maxFailuresPerUser: number;
  windowSeconds: number;
  /** First ban; each repeat offence doubles it. */
  banSeconds: number;
  maxBanSeconds: number;
  /** How long a ban counts as an offence for the next one (from the latest ban). */
  offenceMemorySeconds: number;
  /** Networks (CIDRs or addresses) never counted nor banned, e.g. the organisation's own offices. */
  trusted: string[];
}

export const DEFAULT_LOCKOUT_OPTIONS: LockoutOptions = {
  maxFailures: 5,
  maxFailuresPerUser: 20,
  windowSeconds: 600,
  banSeconds: 900,
  maxBanSeconds: 86400,
  offenceMemorySeconds: 86400,
  trusted: [],
};

export type BanReason = 'ip-failures' | 'user-failures';

export interface BanInfo {
  /** Ban id, for logs and the operator. */
  id: string;
  ip: string;
  reason: BanReason;
  /** This IP's bans within offenceMemorySeconds, this one included (0 while the ban is being set). */
  offences: number;
  /** ISO 8601 times. */
  since: string;
  until: string;
  /** Length of this ban. */
  seconds: number;
  /** Time left, from the store's TTL where known. */
  remainingSeconds: number;
}

/** A refusal's reason: "lockout.banned" (an existing ban), "lockout.ban" (this failure earned one), "lockout.unavailable" (state failed). */
export type LockoutReason = 'lockout.banned' | 'lockout.ban' | 'lockout.unavailable';

export type LockoutVerdict = { action: 'allow' } | { action: 'refuse'; refusal: Refusal; ban?: BanInfo };

export interface LoginLockoutDeps {
  state: SharedState;
  options: LockoutOptions;
  /** Further networks never banned: pass the flow control allow list. */
  exempt?: readonly string[];
  /** Called when the state store fails (operation: "connect", "auth", "failure", ...). */
  onStateError?: (operation: string, err: Error) => void;
  /** Clock for the times written in ban records (tests). */
  now?: () => number;
}

interface BanRecord {
  id: string;
  ip: string;
  reason: BanReason;
  offences: number;
  since: number;
  until: number;
  seconds: number;
}

const ALLOW: LockoutVerdict = { action: 'allow' };
const BAN_PREFIX = 'lockout:ban:';

const keys = {
  ban: (ip: string) => `${BAN_PREFIX}${ip}`,
  ipFailures: (ip: string) => `lockout:failures:ip:${ip}`,
  userFailures: (username: string) => `lockout:failures:user:${hashUser(username)}`,
  offences: (ip: string) => `lockout:offences:${ip}`,
};

/** Usernames are compared case-insensitively and stored only as a hash (bounded, and not a list of logins). */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}

function hashUser(username: string): string {
  return createHash('sha256').update(normalizeUsername(username)).digest('hex').slice(0, 32);
}

export function banSecondsFor(offences: number, opts: Pick<LockoutOptions, 'banSeconds' | 'maxBanSeconds'>): number {
  const exp = Math.min(Math.max(offences, 1) - 1, 40); // 2^40 × anything is past any sane cap
  return Math.min(opts.banSeconds * 2 ** exp, opts.maxBanSeconds);
}

export class LoginLockout {
  private readonly exempt: NetworkList;
  private readonly now: () => number;

  constructor(private readonly deps: LoginLockoutDeps) {
    this.exempt = new NetworkList([...deps.options.trusted, ...(deps.exempt ?? [])]);
    this.now = deps.now ?? Date.now;
  }

  /** True for trusted / allow-listed addresses (and for anything that is not an IP address). */
  isExempt(ip: string): boolean {
    const addr = clientAddress(ip);
    return addr === null || this.exempt.contains(addr);
  }

  /** The ban on ip, or null. Throws if the state store fails (the check* methods apply the policy). */
  async isBanned(ip: string): Promise<BanInfo | null> {
    const addr = this.subject(ip);
    if (!addr) return null;
    const raw = await this.deps.state.get(keys.ban(addr.ip));
    return raw === null ? null : this.info(addr.ip, raw, null);
  }

  /** Before the greeting. Banned → 421 4.7.0; state failure → allow (MX mail must keep flowing). */
  checkConnect(ip: string): Promise<LockoutVerdict> {
    return this.checkBan(ip, 'connect', ALLOW);
  }

  /** At AUTH, before checking credentials. Banned → 421 4.7.0; state failure → 454 4.7.0 (fail closed). */
  checkLoginAllowed(ip: string): Promise<LockoutVerdict> {
    return this.checkBan(ip, 'auth', { action: 'refuse', refusal: because(login.temporaryFailure.refuse(), 'lockout.unavailable' satisfies LockoutReason) });
  }

  /** Banned → the ban's refusal; state unreachable → `onStateFailure` (the caller's fail-open or fail-closed). */
  private async checkBan(ip: string, where: 'connect' | 'auth', onStateFailure: LockoutVerdict): Promise<LockoutVerdict> {
    const addr = this.subject(ip);
    if (!addr) return ALLOW;
    try {
      this.throwIfUnhealthy();
      const ban = await this.isBanned(addr.ip);
      return ban ? this.refuseBanned(ban) : ALLOW;
    } catch (err) {
      this.report(where, err);
      return onStateFailure;
    }
  }

  /**
   * After the credential source refused username's credentials from ip. Returns a refusal when this
   * failure banned the IP. A state failure is reported and returns allow (the attempt is answered
   * 535 as usual; the next AUTH meets checkLoginAllowed, which fails closed).
   */
  async recordFailure(ip: string, username: string): Promise<LockoutVerdict> {
    const addr = this.subject(ip);
    if (!addr) return ALLOW;
    const o = this.deps.options;
    try {
      this.throwIfUnhealthy();
      const [ipCount, userCount] = await Promise.all([
        this.deps.state.incr(keys.ipFailures(addr.ip), o.windowSeconds),
        this.deps.state.incr(keys.userFailures(username), o.windowSeconds),
      ]);
      const reason: BanReason | null = ipCount >= o.maxFailures ? 'ip-failures' : userCount >= o.maxFailuresPerUser ? 'user-failures' : null;
      if (!reason) return ALLOW;
      const ban = await this.ban(addr.ip, reason);
      return this.refuseBanned(ban, 'lockout.ban');
    } catch (err) {
      this.report('failure', err);
      return ALLOW;
    }
  }

  /** Current bans (at most max), longest remaining first. For the operator. */
  async listBans(max = 1000): Promise<BanInfo[]> {
    const found = await this.deps.state.scanKeys(BAN_PREFIX, max);
    const bans = await Promise.all(
      found.map(async (key) => {
        const [raw, ttl] = await Promise.all([this.deps.state.get(key), this.deps.state.ttl(key)]);
        return raw === null ? null : this.info(key.slice(BAN_PREFIX.length), raw, ttl);
      }),
    );
    return bans.filter((b): b is BanInfo => b !== null).sort((a, b) => b.remainingSeconds - a.remainingSeconds);
  }

  /** Ends a ban now and forgets the IP's failures and offences. True if there was a ban. */
  async liftBan(ip: string): Promise<boolean> {
    const addr = clientAddress(ip);
    if (!addr) return false;
    const [had] = await Promise.all([this.deps.state.del(keys.ban(addr.ip)), this.deps.state.del(keys.ipFailures(addr.ip)), this.deps.state.del(keys.offences(addr.ip))]);
    return had;
  }

  // ------------------------------------------------------------------------------------------------

  /** The address to act on, or null when it is exempt (or not an IP). */
  private subject(ip: string): ClientAddress | null {
    const addr = clientAddress(ip);
    return addr && !this.exempt.contains(addr) ? addr : null;
  }

  /**
   * Bans ip once, however many replicas see the threshold crossed at the same time: the ban key is
   * claimed (set-if-absent) with a provisional first-offence ban before the offence is counted, so
   * only the winner counts an offence and lengthens it.
   */
  private async ban(ip: string, reason: BanReason): Promise<BanInfo> {
    const o = this.deps.options;
    const now = this.now();
    const provisional: BanRecord = { id: randomUUID(), ip, reason, offences: 0, since: now, until: now + o.banSeconds * 1000, seconds: o.banSeconds };
    const mine = JSON.stringify(provisional);
    const held = await this.deps.state.claim(keys.ban(ip), mine, o.banSeconds);
    if (held !== mine) return this.info(ip, held, null); // someone else banned it first
    const offences = await this.deps.state.incr(keys.offences(ip), o.offenceMemorySeconds, { refreshTtl: true });
    const seconds = banSecondsFor(offences, o);
    const record: BanRecord = { ...provisional, offences, seconds, until: now + seconds * 1000 };
    await this.deps.state.set(keys.ban(ip), JSON.stringify(record), seconds);
    await this.deps.state.del(keys.ipFailures(ip)); // after the ban, a fresh window
    return this.info(ip, JSON.stringify(record), seconds);
  }

  private info(ip: string, raw: string, ttl: number | null): BanInfo {
    let r: Partial<BanRecord> = {};
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object') r = parsed as Partial<BanRecord>;
    } catch {
      // a ban key that is not ours to read is still a ban
    }
    const now = this.now();
    const until = typeof r.until === 'number' ? r.until : now + (ttl ?? 0) * 1000;
    return {
      id: typeof r.id === 'string' ? r.id : 'unknown',
      ip,
      reason: r.reason === 'user-failures' ? 'user-failures' : 'ip-failures',
      offences: typeof r.offences === 'number' ? r.offences : 0,
      since: new Date(typeof r.since === 'number' ? r.since : now).toISOString(),
      until: new Date(until).toISOString(),
      seconds: typeof r.seconds === 'number' ? r.seconds : (ttl ?? 0),
      remainingSeconds: ttl ?? Math.max(0, Math.ceil((until - now) / 1000)),
    };
  }

  private refuseBanned(ban: BanInfo, reason: LockoutReason = 'lockout.banned'): LockoutVerdict {
    return { action: 'refuse', refusal: because(login.lockedOut.refuse(ban.ip, ban.remainingSeconds), reason), ban };
  }

  /** A store that says it is down is not waited for (each command would take its full timeout). */
  private throwIfUnhealthy(): void {
    const problem = this.deps.state.unhealthy();
    if (problem !== null) throw new Error(problem);
  }

  private report(operation: string, err: unknown): void {
    try {
      this.deps.onStateError?.(operation, err instanceof Error ? err : new Error(String(err)));
    } catch {
      // a failing hook must not change the policy
    }
  }
}
