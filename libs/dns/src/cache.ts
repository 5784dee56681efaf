import type { SharedState } from '@portcullis/state';
import type { DnsAnswer, DnsType } from './resolver.js';

export interface CacheOptions {
  memoryEntries: number;
  minTtlSeconds: number;
  maxTtlSeconds: number;
  /** Shared between replicas (Redis); undefined: memory only. */
  state?: SharedState | undefined;
  now?: () => number;
  /** A shared store that fails is a cache miss, never a failed look-up; this hears about it. */
  onSharedError?: (err: Error) => void;
}

interface Entry {
  answer: DnsAnswer;
  /** Epoch ms after which the entry is stale. */
  expires: number;
}

export type CacheTier = 'memory' | 'shared';

/**
 * Answers by (name, type): a small in-process LRU in front of the shared store.
 * TTLs are clamped to [min, max]; the TTL handed out is what is left of it.
 */
export class AnswerCache {
  private readonly memory = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: CacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  static key(name: string, type: DnsType): string {
    return `dns:${type}:${name.replace(/\.$/, '').toLowerCase()}`;
  }

  clampTtl(ttl: number): number {
    return Math.max(this.opts.minTtlSeconds, Math.min(this.opts.maxTtlSeconds, ttl));
  }

  async get(name: string, type: DnsType): Promise<{ answer: DnsAnswer; tier: CacheTier } | undefined> {
    const key = AnswerCache.key(name, type);
    const now = this.now();
    const mem = this.memory.get(key);
    if (mem && mem.expires > now) {
      this.memory.delete(key); // re-insert: most recently used last
      this.memory.set(key, mem);
      return { answer: withTtl(mem, now), tier: 'memory' };
    }
    if (mem) this.memory.delete(key);
    if (!this.opts.state) return undefined;
    let raw: string | null;
    try {
      raw = await this.opts.state.get(key);
    } catch (err) {
      this.opts.onSharedError?.(err as Error);
      return undefined;
    }
    const entry = raw ? parseEntry(raw) : undefined;
    if (!entry || entry.expires <= now) return undefined;
    this.remember(key, entry);
    return { answer: withTtl(entry, now), tier: 'shared' };
  }

  /** Stores an answer for its (clamped) TTL; returns the answer with that TTL. */
  async set(name: string, type: DnsType, answer: DnsAnswer): Promise<DnsAnswer> {
    const ttl = this.clampTtl(answer.ttl);
    const stored = { ...answer, ttl } as DnsAnswer;
    if (ttl <= 0) return stored;
    const key = AnswerCache.key(name, type);
    const entry: Entry = { answer: stored, expires: this.now() + ttl * 1000 };
    this.remember(key, entry);
    if (this.opts.state) {
      await this.opts.state.set(key, JSON.stringify(entry), ttl).catch((err: Error) => this.opts.onSharedError?.(err));
    }
    return stored;
  }

  private remember(key: string, entry: Entry): void {
    if (this.opts.memoryEntries <= 0) return;
    this.memory.delete(key);
    this.memory.set(key, entry);
    while (this.memory.size > this.opts.memoryEntries) {
      const oldest = this.memory.keys().next().value;
      if (oldest === undefined) break;
      this.memory.delete(oldest);
    }
  }
}

function withTtl(entry: Entry, now: number): DnsAnswer {
  return { ...entry.answer, ttl: Math.max(0, Math.ceil((entry.expires - now) / 1000)) } as DnsAnswer;
}

function parseEntry(raw: string): Entry | undefined {
  try {
    const e = JSON.parse(raw) as Entry;
    const status = e?.answer?.status;
    if (typeof e.expires !== 'number' || !Array.isArray(e.answer.records)) return undefined;
    return status === 'ok' || status === 'nxdomain' || status === 'nodata' ? e : undefined;
  } catch {
    return undefined; // a foreign or corrupt value is a miss, not an answer
  }
}
