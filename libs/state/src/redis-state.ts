import { Redis } from 'ioredis';
import type { SharedState } from './state.js';

export interface RedisStateOptions {
  url: string;
  password?: string;
  keyPrefix: string;
  /** Upper bound on any one command; past it the caller gets an error (and answers 4xx). */
  commandTimeoutMs?: number;
}

/**
 * Lua scripts: each runs atomically in Redis, so replicas never see a half-done step. Keys go
 * through KEYS (ioredis adds keyPrefix to them). Lease scores are expiry times in ms from Redis's
 * own clock (TIME), so replicas with skewed clocks still agree on what has expired.
 */
const SCRIPTS = {
  // KEYS[1] counter; ARGV[1] ttl seconds, ARGV[2] '1' to set the TTL on every increment.
  portcullisIncr: `
local n = redis.call('INCR', KEYS[1])
if ARGV[2] == '1' or redis.call('PTTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`,
  // KEYS lease sets; ARGV[1] member, ARGV[2] lease ms, ARGV[3] '1' to check limits, ARGV[4..] limits.
  portcullisLease: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member, lease = ARGV[1], tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if ARGV[3] == '1' and not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= tonumber(ARGV[i + 3]) then
    return i - 1
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, member)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, top[2])
end
return -1`,
  // KEYS[1] lease set: live members.
  portcullisLeaseCount: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`,
} as const;

type ScriptArg = string | number;
type Scripted = Redis & { [K in keyof typeof SCRIPTS]: (numKeys: number, ...args: ScriptArg[]) => Promise<number> };

/** Escapes SCAN MATCH's glob characters so a prefix matches literally. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

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
    const client = new Redis(this.opts.url, {
      ...(this.opts.password ? { password: this.opts.password } : {}),
      keyPrefix: this.opts.keyPrefix,
      commandTimeout: this.opts.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      // Reconnect forever in the background, but never let a command wait on it for long.
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
    });
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
    return client;
  }

  private get scripted(): Scripted {
    return this.client as Scripted;
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

  async incr(key: string, ttlSeconds: number, opts: { refreshTtl?: boolean } = {}): Promise<number> {
    return Number(await this.scripted.portcullisIncr(1, key, Math.max(1, Math.ceil(ttlSeconds)), opts.refreshTtl ? '1' : '0'));
  }

  async del(key: string): Promise<boolean> {
    return (await this.client.del(key)) > 0;
  }

  async ttl(key: string): Promise<number | null> {
    const ms = await this.client.pttl(key);
    return ms < 0 ? null : Math.ceil(ms / 1000);
  }

  async scanKeys(prefix: string, max: number): Promise<string[]> {
    // keyPrefix is not applied to SCAN's pattern nor stripped from its results: both are ours to do.
    const own = this.opts.keyPrefix;
    const match = globEscape(own + prefix) + '*';
    const found = new Set<string>(); // SCAN may return a key twice
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        if (found.size >= max) break;
        if (k.startsWith(own)) found.add(k.slice(own.length));
      }
    } while (cursor !== '0' && found.size < max);
    return [...found];
  }

  async listPush(key: string, value: string | readonly string[], maxLength: number, ttlSeconds: number): Promise<void> {
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) return;
    const results = await this.client
      .multi()
      .lpush(key, ...values)
      .ltrim(key, 0, Math.max(0, maxLength - 1))
      .expire(key, Math.max(1, Math.ceil(ttlSeconds)))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async listRange(key: string, max: number): Promise<string[]> {
    return max <= 0 ? [] : this.client.lrange(key, 0, max - 1);
  }

  async leaseAcquire(keys: readonly string[], limits: readonly number[], member: string, leaseSeconds: number): Promise<number> {
    if (keys.length === 0) return -1;
    const ms = Math.max(1, Math.round(leaseSeconds * 1000));
    return Number(await this.scripted.portcullisLease(keys.length, ...keys, member, ms, '1', ...keys.map((_, i) => limits[i] ?? Number.MAX_SAFE_INTEGER)));
  }

  async leaseRenew(keys: readonly string[], member: string, leaseSeconds: number): Promise<void> {
    if (keys.length === 0) return;
    await this.scripted.portcullisLease(keys.length, ...keys, member, Math.max(1, Math.round(leaseSeconds * 1000)), '0');
  }

  async leaseRelease(keys: readonly string[], member: string): Promise<void> {
    if (keys.length === 0) return;
    const multi = this.client.multi();
    for (const key of keys) multi.zrem(key, member);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async leaseCount(key: string): Promise<number> {
    return Number(await this.scripted.portcullisLeaseCount(1, key));
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
    // A QUIT that could not be sent (Redis down) leaves ioredis reconnecting forever, which keeps
    // the process alive: stop that too.
    this.client.disconnect(false);
    this.subscriber?.disconnect(false);
  }
}
