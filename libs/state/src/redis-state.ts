import { Redis } from 'ioredis';
import type { SharedState } from './state.js';

export interface RedisStateOptions {
  url: string;
  password?: string;
  keyPrefix: string;
  /** Upper bound on any one command; past it the caller gets an error (and answers 4xx). */
  commandTimeoutMs?: number;
}

export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly client: Redis;
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private problem: string | null = 'connecting';

  constructor(private readonly opts: RedisStateOptions) {
    this.client = this.connect();
    this.client.on('ready', () => (this.problem = null));
    this.client.on('error', (err: Error) => (this.problem = `redis: ${err.message}`));
    this.client.on('end', () => (this.problem = 'redis connection closed'));
  }

  private connect(): Redis {
    return new Redis(this.opts.url, {
      ...(this.opts.password ? { password: this.opts.password } : {}),
      keyPrefix: this.opts.keyPrefix,
      commandTimeout: this.opts.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      // Reconnect forever in the background, but never let a command wait on it for long.
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
    });
  }

  async claim(key: string, value: string, ttlSeconds: number): Promise<string> {
    const ok = await this.client.set(key, value, 'EX', ttlSeconds, 'NX');
    if (ok === 'OK') return value;
    return (await this.client.get(key)) ?? value;
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.client.set(key, value, 'EX', ttlSeconds);
  }

  async publish(channel: string, message: string): Promise<void> {
    // keyPrefix does not apply to channels; prefix them ourselves so deployments can share a Redis.
    await this.client.publish(this.opts.keyPrefix + channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const full = this.opts.keyPrefix + channel;
    if (!this.subscriber) {
      const sub = this.connect();
      sub.on('error', () => undefined); // reported by the main client's health
      sub.on('message', (ch: string, msg: string) => {
        for (const fn of this.handlers.get(ch) ?? []) fn(msg);
      });
      this.subscriber = sub;
    }
    let set = this.handlers.get(full);
    if (!set) {
      this.handlers.set(full, (set = new Set()));
      await this.subscriber.subscribe(full);
    }
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0) {
        this.handlers.delete(full);
        await this.subscriber?.unsubscribe(full);
      }
    };
  }

  unhealthy(): string | null {
    return this.problem;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.subscriber?.quit()]);
  }
}
