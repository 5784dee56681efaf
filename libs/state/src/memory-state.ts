import type { SharedState } from './state.js';

/**
 * Embedded mode's state: a bounded map with expiry. When full, the oldest
 * entries are dropped first (Map keeps insertion order). Lease keys live in a
 * second map with the same bound. One process, so every operation is atomic.
 */
export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expires: number }>();
  private readonly channels = new Map<string, Set<(m: string) => void>>();
  /** Lease keys: member -> expiry (ms). Bounded like entries (at most maxEntries keys). */
  private readonly leases = new Map<string, Map<string, number>>();
  /** Capped lists, newest first. Bounded like entries (at most maxEntries lists). */
  private readonly lists = new Map<string, { items: string[]; expires: number }>();

  constructor(private readonly opts: { maxEntries: number; now?: () => number } = { maxEntries: 100_000 }) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  private live(key: string): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return e.value;
  }

  private put(key: string, value: string, ttlSeconds: number): void {
    this.entries.delete(key);
    while (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: this.now() + ttlSeconds * 1000 });
  }

  async claim(key: string, value: string, ttlSeconds: number): Promise<string> {
    const held = this.live(key);
    if (held !== null) return held;
    this.put(key, value, ttlSeconds);
    return value;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.put(key, value, ttlSeconds);
  }

  async incr(key: string, ttlSeconds: number, opts: { refreshTtl?: boolean } = {}): Promise<number> {
    const held = this.live(key);
    const n = (held === null ? 0 : Number.parseInt(held, 10) || 0) + 1;
    const e = held === null ? undefined : this.entries.get(key);
    if (e && !opts.refreshTtl)
      e.value = String(n); // keeps its window (and its place in the eviction order)
    else this.put(key, String(n), ttlSeconds);
    return n;
  }

  async del(key: string): Promise<boolean> {
    const had = this.live(key) !== null || this.liveLeases(key) !== null || this.liveList(key) !== null;
    this.entries.delete(key);
    this.lists.delete(key);
    this.leases.delete(key);
    return had;
  }

  async ttl(key: string): Promise<number | null> {
    let expires: number | undefined;
    if (this.live(key) !== null) expires = this.entries.get(key)!.expires;
    else {
      const members = this.liveLeases(key);
      if (members) expires = Math.max(...members.values());
    }
    return expires === undefined ? null : Math.ceil((expires - this.now()) / 1000);
  }

  async listPush(key: string, value: string | readonly string[], maxLength: number, ttlSeconds: number): Promise<void> {
    const values = typeof value === 'string' ? [value] : value;
    if (values.length === 0) return;
    const items = this.liveList(key) ?? [];
    this.lists.delete(key);
    while (this.lists.size >= this.opts.maxEntries) this.lists.delete(this.lists.keys().next().value as string);
    for (const v of values) items.unshift(v);
    items.length = Math.min(items.length, Math.max(1, maxLength));
    this.lists.set(key, { items, expires: this.now() + ttlSeconds * 1000 });
  }

  async listRange(key: string, max: number): Promise<string[]> {
    return (this.liveList(key) ?? []).slice(0, Math.max(0, max));
  }

  private liveList(key: string): string[] | null {
    const l = this.lists.get(key);
    if (!l) return null;
    if (l.expires <= this.now()) {
      this.lists.delete(key);
      return null;
    }
    return l.items;
  }

  async scanKeys(prefix: string, max: number): Promise<string[]> {
    const out: string[] = [];
    for (const key of [...this.entries.keys(), ...this.leases.keys()]) {
      if (out.length >= max) break;
      if (key.startsWith(prefix) && (this.live(key) !== null || this.liveLeases(key) !== null)) out.push(key);
    }
    return out;
  }

  /** The live members of a lease key (expired ones dropped), or null when none is left. */
  private liveLeases(key: string): Map<string, number> | null {
    const members = this.leases.get(key);
    if (!members) return null;
    const now = this.now();
    for (const [m, expires] of members) if (expires <= now) members.delete(m);
    if (members.size === 0) {
      this.leases.delete(key);
      return null;
    }
    return members;
  }

  private leaseSet(key: string): Map<string, number> {
    let members = this.liveLeases(key);
    if (!members) {
      while (this.leases.size >= this.opts.maxEntries) this.leases.delete(this.leases.keys().next().value as string);
      this.leases.set(key, (members = new Map<string, number>()));
    }
    return members;
  }

  async leaseAcquire(keys: readonly string[], limits: readonly number[], member: string, leaseSeconds: number): Promise<number> {
    for (const [i, key] of keys.entries()) {
      const members = this.liveLeases(key);
      if (members && !members.has(member) && members.size >= (limits[i] ?? Infinity)) return i;
    }
    await this.leaseRenew(keys, member, leaseSeconds);
    return -1;
  }

  async leaseRenew(keys: readonly string[], member: string, leaseSeconds: number): Promise<void> {
    const expires = this.now() + leaseSeconds * 1000;
    for (const key of keys) this.leaseSet(key).set(member, expires);
  }

  async leaseRelease(keys: readonly string[], member: string): Promise<void> {
    for (const key of keys) {
      const members = this.leases.get(key);
      members?.delete(member);
      if (members?.size === 0) this.leases.delete(key);
    }
  }

  async leaseCount(key: string): Promise<number> {
    return this.liveLeases(key)?.size ?? 0;
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const fn of this.channels.get(channel) ?? []) queueMicrotask(() => fn(message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
    };
  }

  unhealthy(): string | null {
    return null;
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}
