/**
 * Shared short-lived state: what several replicas must agree on (the fate of a
 * message, delivery de-duplication) and how a stage reaches the edge replica
 * holding a session. Redis in production, process memory in embedded mode.
 * Every method fails (rejects) rather than waits when the store is unreachable.
 */
export interface SharedState {
  readonly kind: 'redis' | 'memory';
  /** Sets key to value unless it is already set; returns the value now held (ours or the earlier one). */
  claim(key: string, value: string, ttlSeconds: number): Promise<string>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /**
   * Adds 1 to a counter (created at 1) and returns the new value, atomically across replicas. The TTL
   * is set when the counter has none, i.e. once per window (a fixed window: the count restarts
   * ttlSeconds after its first increment); with refreshTtl it is set on every increment instead
   * (forgotten ttlSeconds after the last one).
   */
  incr(key: string, ttlSeconds: number, opts?: { refreshTtl?: boolean }): Promise<number>;
  /** Deletes a key of any kind (value, counter, lease set); true if it existed. */
  del(key: string): Promise<boolean>;
  /** Whole seconds the key has left (rounded up); null if it does not exist or never expires. */
  ttl(key: string): Promise<number | null>;
  /**
   * Up to max keys that start with prefix, in no particular order, without the store's own prefix.
   * Walks the key space incrementally (SCAN): for operator listings, not for decisions.
   */
  scanKeys(prefix: string, max: number): Promise<string[]>;
  /**
   * Leases, a counting semaphore that survives a crashed holder: each key holds members that
   * expire leaseSeconds after they were taken or last renewed. Takes (or renews) member's lease in
   * every key, or in none, atomically: returns -1 when taken, else the index of the first key that
   * already holds limits[i] other live members. A member that already holds a lease is never refused.
   */
  leaseAcquire(keys: readonly string[], limits: readonly number[], member: string, leaseSeconds: number): Promise<number>;
  /** Extends member's lease in every key (re-creating it if it lapsed), regardless of limits. */
  leaseRenew(keys: readonly string[], member: string, leaseSeconds: number): Promise<void>;
  leaseRelease(keys: readonly string[], member: string): Promise<void>;
  /** Live (unexpired) members of a lease key. */
  leaseCount(key: string): Promise<number>;
  /**
   * A capped list, newest first: puts the value (or each of the values, in order, so the last ends
   * up first) at the head, keeps at most maxLength items, and sets the list to expire ttlSeconds
   * after this push. For indexes and timelines that must stay bounded.
   */
  listPush(key: string, value: string | readonly string[], maxLength: number, ttlSeconds: number): Promise<void>;
  /** Up to max items of a list, newest first; empty when the list does not exist. */
  listRange(key: string, max: number): Promise<string[]>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls onMessage for every message on the channel until the returned function is called. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  unhealthy(): string | null;
  close(): Promise<void>;
}
