import type { SharedState } from './state.js';

/**
 * Embedded mode's state: a bounded map with expiry. When full, the oldest
 * entries are dropped first (Map keeps insertion order).
 */
export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expires: number }>();
  private readonly channels = new Map<string, Set<(m: string) => void>>();

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
