/**
 * Redis for the flow-control and lockout tests.
 *
 * - The shared test Redis: PORTCULLIS_TEST_REDIS (default redis://127.0.0.1:16379, which `make test`
 *   starts). Without the variable and with nothing listening there (`make test-unit`), the tests
 *   that need it are skipped; with the variable set, an unreachable Redis fails them. Every test
 *   uses its own key prefix and deletes its keys.
 * - A private redis-server per outage test (a free port, no persistence, a child of the test), so
 *   that stopping it never disturbs other tests sharing the test Redis. Skipped when redis-server
 *   is not installed.
 */
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryState, RedisState, type SharedState } from '@portcullis/state';

import { TEST_REDIS_URL, ping, sharedRedisSkip } from '@portcullis/state/testing';

export { TEST_REDIS_URL, ping, sharedRedisSkip };

export const redisServerSkip: string | false = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'redis-server is not installed';

/** A key prefix of its own, so that tests and concurrent runs never meet. */
export const testPrefix = (): string => `portcullis-test:${randomUUID().slice(0, 8)}:`;

/** Waits until the client is connected (RedisState reports "connecting" until then). */
export async function healthy(state: { unhealthy(): string | null }, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (state.unhealthy() !== null) {
    if (Date.now() > until) throw new Error(`state still unhealthy: ${state.unhealthy()}`);
    await sleep(20);
  }
}

/** RedisStates opened by a test, and their keys, cleaned up at the end. */
export class RedisStates {
  private readonly opened: RedisState[] = [];
  readonly keyPrefix = testPrefix();

  constructor(private readonly url = TEST_REDIS_URL) {}

  async open(): Promise<RedisState> {
    const state = new RedisState({ url: this.url, keyPrefix: this.keyPrefix });
    this.opened.push(state);
    await healthy(state);
    return state;
  }

  async close(): Promise<void> {
    const any = this.opened.find((s) => s.unhealthy() === null);
    if (any) for (const key of await any.scanKeys('', 10_000).catch(() => [])) await any.del(key).catch(() => undefined);
    await Promise.all(this.opened.map((s) => s.close()));
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A redis-server of the test's own, to stop and start again. */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    for (let i = 0; i < 100; i++) {
      if (await ping('127.0.0.1', this.port)) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** Stops the server (SIGTERM, no persistence configured) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * A store whose every operation fails while it claims to be healthy (the moments before the client
 * notices Redis is gone): checks the failure policies without the fast path on unhealthy().
 */
export function brokenState(): SharedState {
  const fail = async () => {
    throw new Error('connection lost');
  };
  return {
    kind: 'redis',
    claim: fail,
    get: fail,
    set: fail,
    incr: fail,
    del: fail,
    ttl: fail,
    scanKeys: fail,
    leaseAcquire: fail,
    leaseRenew: fail,
    leaseRelease: fail,
    leaseCount: fail,
    listPush: fail,
    listRange: fail,
    publish: fail,
    subscribe: fail,
    unhealthy: () => null,
    close: async () => undefined,
  };
}

/** Several instances on one store: one MemoryState, or one Redis through a RedisState each. */
export interface TestStore {
  state(): Promise<SharedState>;
  close(): Promise<void>;
}

export const TEST_STORES: Record<'memory' | 'redis', () => TestStore> = {
  memory: () => {
    const shared = new MemoryState({ maxEntries: 10_000 });
    return { state: async () => shared, close: async () => undefined };
  },
  redis: () => {
    const states = new RedisStates();
    return { state: () => states.open(), close: () => states.close() };
  },
};
