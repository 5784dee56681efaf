/**
 * RedisState against a real Redis: PORTCULLIS_TEST_REDIS (default redis://127.0.0.1:16379, which
 * `make test` starts). Without the variable and with nothing listening there (`make test-unit`),
 * these tests are skipped; with the variable set, an unreachable Redis fails them.
 */
import { test } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisState } from '../src/redis-state.js';
import { sharedStateContract } from './state-contract.js';
import { TEST_REDIS_URL, sharedRedisSkip } from '../src/testing.js';

const URL_ = TEST_REDIS_URL;
const skip = await sharedRedisSkip();

/** A fresh key prefix per test so that tests (and concurrent runs) never see each other's keys. */
const prefix = () => `portcullis-test:${randomUUID().slice(0, 8)}:`;

async function ready(state: RedisState): Promise<void> {
  for (let i = 0; i < 50 && state.unhealthy() !== null; i++) await sleep(20);
}

async function cleanup(keyPrefix: string): Promise<void> {
  const raw = new Redis(URL_, { maxRetriesPerRequest: 1 });
  try {
    const keys = await raw.keys(`${keyPrefix}*`);
    if (keys.length) await raw.del(...keys);
  } finally {
    raw.disconnect();
  }
}

sharedStateContract(
  'RedisState',
  async () => {
    const keyPrefix = prefix();
    const state = new RedisState({ url: URL_, keyPrefix });
    await ready(state);
    return {
      state,
      advance: (ms) => sleep(ms),
      close: async () => {
        await state.close();
        await cleanup(keyPrefix);
      },
    };
  },
  { skip },
);

test('RedisState: keyPrefix applies to counters and leases, and scanKeys strips it', { skip }, async () => {
  const keyPrefix = prefix();
  const state = new RedisState({ url: URL_, keyPrefix });
  const otherPrefix = prefix();
  const other = new RedisState({ url: URL_, keyPrefix: otherPrefix });
  const raw = new Redis(URL_);
  try {
    await state.incr('flow:x', 60);
    await state.leaseAcquire(['flow:l'], [1], 'm', 60);
    assert.equal(await raw.get(`${keyPrefix}flow:x`), '1');
    assert.equal(await raw.zcard(`${keyPrefix}flow:l`), 1);
    assert.deepEqual((await state.scanKeys('flow:', 10)).sort(), ['flow:l', 'flow:x']);
    assert.deepEqual(await other.scanKeys('flow:', 10), [], 'another prefix is another namespace');
    assert.equal(await other.incr('flow:x', 60), 1);
  } finally {
    raw.disconnect();
    await state.close();
    await other.close();
    await cleanup(keyPrefix);
    await cleanup(otherPrefix);
  }
});

test('RedisState: two clients on one Redis share counters and leases', { skip }, async () => {
  const keyPrefix = prefix();
  const a = new RedisState({ url: URL_, keyPrefix });
  const b = new RedisState({ url: URL_, keyPrefix });
  try {
    await Promise.all([a.incr('c', 60), b.incr('c', 60), a.incr('c', 60)]);
    assert.equal(await b.incr('c', 60), 4);
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).leaseAcquire(['l'], [3], `m${i}`, 60)));
    assert.equal(got.filter((r) => r === -1).length, 3);
  } finally {
    await a.close();
    await b.close();
    await cleanup(keyPrefix);
  }
});

test('RedisState: with nothing listening, the new commands fail within the command timeout', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  const state = new RedisState({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'x:', commandTimeoutMs: 500 });
  try {
    const t0 = Date.now();
    await Promise.all(
      [
        state.incr('c', 60),
        state.leaseAcquire(['l'], [1], 'm', 60),
        state.leaseRenew(['l'], 'm', 60),
        state.leaseRelease(['l'], 'm'),
        state.leaseCount('l'),
        state.scanKeys('p', 10),
        state.del('c'),
        state.ttl('c'),
      ].map((p) => assert.rejects(p)),
    );
    assert.ok(Date.now() - t0 < 3000, 'the commands give up rather than wait for Redis');
    assert.notEqual(state.unhealthy(), null);
  } finally {
    await state.close();
  }
});
