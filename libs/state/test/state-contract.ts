/**
 * What every SharedState must do with counters, deletion, TTLs, key listing and leases; run against
 * MemoryState (memory-state.test.ts) and RedisState on a real Redis (redis-state.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SharedState } from '../src/state.js';

export interface ContractSubject {
  state: SharedState;
  /** Lets ms pass: moves a fake clock, or sleeps for a real store. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export function sharedStateContract(name: string, make: () => Promise<ContractSubject>, opts: { skip?: string | false } = {}): void {
  // Each test has its own subject (its own clock, or its own key prefix), so they may overlap: the
  // ones that wait for a real TTL then cost seconds once, not each.
  describe(name, { concurrency: true, skip: opts.skip ?? false }, () => contract(name, make));
}

function contract(name: string, make: () => Promise<ContractSubject>): void {
  const t = (title: string, fn: (s: ContractSubject) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const s = await make();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });
  };

  t('incr counts from 1 and sets the TTL once per window', async ({ state }) => {
    assert.equal(await state.incr('c', 10), 1);
    assert.equal(await state.incr('c', 1000), 2);
    assert.equal(await state.incr('c', 1000), 3);
    const ttl = await state.ttl('c');
    assert.ok(ttl !== null && ttl > 0 && ttl <= 10, `ttl ${ttl}: later increments must not move the window`);
  });

  t('a counter restarts after its window', async ({ state, advance }) => {
    await state.incr('c', 1);
    await state.incr('c', 1);
    await advance(1100);
    assert.equal(await state.get('c'), null);
    assert.equal(await state.incr('c', 1), 1);
  });

  t('incr with refreshTtl restarts the TTL on every increment', async ({ state }) => {
    await state.incr('c', 5, { refreshTtl: true });
    await state.incr('c', 100, { refreshTtl: true });
    const ttl = await state.ttl('c');
    assert.ok(ttl !== null && ttl > 5 && ttl <= 100, `ttl ${ttl}`);
  });

  t('concurrent increments each get their own value', async ({ state }) => {
    const got = await Promise.all(Array.from({ length: 50 }, () => state.incr('c', 60)));
    assert.deepEqual(
      got.sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  t('del removes values, counters and lease sets, and says whether there was one', async ({ state }) => {
    await state.set('v', 'x', 60);
    await state.incr('c', 60);
    await state.leaseAcquire(['l'], [5], 'm', 60);
    assert.equal(await state.del('v'), true);
    assert.equal(await state.del('c'), true);
    assert.equal(await state.del('l'), true);
    assert.equal(await state.del('v'), false);
    assert.equal(await state.get('v'), null);
    assert.equal(await state.leaseCount('l'), 0);
    assert.equal(await state.incr('c', 60), 1);
  });

  t('ttl is null for a missing key and whole seconds otherwise', async ({ state }) => {
    assert.equal(await state.ttl('missing'), null);
    await state.set('v', 'x', 30);
    const ttl = await state.ttl('v');
    assert.ok(ttl !== null && ttl >= 29 && ttl <= 30, `ttl ${ttl}`);
  });

  t('scanKeys finds keys by prefix, bounded, without the store prefix', async ({ state }) => {
    for (let i = 0; i < 12; i++) await state.set(`ban:10.0.0.${i}`, 'x', 60);
    await state.set('banner', 'x', 60);
    await state.set('other:1', 'x', 60);
    await state.leaseAcquire(['ban:lease'], [1], 'm', 60);
    const all = await state.scanKeys('ban:', 1000);
    assert.deepEqual(all.sort(), [...Array.from({ length: 12 }, (_, i) => `ban:10.0.0.${i}`), 'ban:lease'].sort());
    const some = await state.scanKeys('ban:', 5);
    assert.equal(some.length, 5);
    for (const k of some) assert.ok(k.startsWith('ban:'));
    assert.deepEqual(await state.scanKeys('nothing:', 10), []);
  });

  t('scanKeys takes the prefix literally (glob characters)', async ({ state }) => {
    await state.set('a*b:1', 'x', 60);
    await state.set('axb:1', 'x', 60);
    await state.set('a?b[1]:2', 'x', 60);
    assert.deepEqual(await state.scanKeys('a*b:', 10), ['a*b:1']);
    assert.deepEqual(await state.scanKeys('a?b[1]', 10), ['a?b[1]:2']);
  });

  t('scanKeys leaves out expired keys', async ({ state, advance }) => {
    await state.set('p:short', 'x', 1);
    await state.set('p:long', 'x', 60);
    await advance(1100);
    assert.deepEqual(await state.scanKeys('p:', 10), ['p:long']);
  });

  t('leases: up to the limit, then the index of the full key', async ({ state }) => {
    for (const m of ['a', 'b', 'c']) assert.equal(await state.leaseAcquire(['ip', 'net'], [3, 10], m, 60), -1);
    assert.equal(await state.leaseAcquire(['ip', 'net'], [3, 10], 'd', 60), 0);
    assert.equal(await state.leaseAcquire(['other', 'net'], [3, 3], 'd', 60), 1);
    assert.equal(await state.leaseCount('ip'), 3);
    assert.equal(await state.leaseCount('net'), 3);
    assert.equal(await state.leaseCount('other'), 0, 'a refused acquire takes nothing (all or nothing)');
  });

  t('leases: a holder re-acquiring is not refused', async ({ state }) => {
    await state.leaseAcquire(['k'], [1], 'a', 60);
    assert.equal(await state.leaseAcquire(['k'], [1], 'a', 60), -1);
    assert.equal(await state.leaseCount('k'), 1);
  });

  t('leases: release frees the slot', async ({ state }) => {
    await state.leaseAcquire(['k', 'n'], [1, 1], 'a', 60);
    assert.equal(await state.leaseAcquire(['k'], [1], 'b', 60), 0);
    await state.leaseRelease(['k', 'n'], 'a');
    assert.equal(await state.leaseCount('k'), 0);
    assert.equal(await state.leaseCount('n'), 0);
    assert.equal(await state.leaseAcquire(['k', 'n'], [1, 1], 'b', 60), -1);
    await state.leaseRelease(['k'], 'nobody');
  });

  t('leases: an unrenewed lease lapses (a crashed holder), a renewed one lives', async ({ state, advance }) => {
    await state.leaseAcquire(['k'], [2], 'crashed', 1);
    await state.leaseAcquire(['k'], [2], 'alive', 1);
    await advance(600);
    await state.leaseRenew(['k'], 'alive', 1);
    await advance(600);
    assert.equal(await state.leaseCount('k'), 1);
    assert.equal(await state.leaseAcquire(['k'], [2], 'new', 1), -1);
    assert.equal(await state.leaseAcquire(['k'], [2], 'newer', 1), 0);
    await advance(1100);
    assert.equal(await state.leaseCount('k'), 0);
    assert.equal(await state.ttl('k'), null, 'the lease key itself expires');
  });

  t('leases: renew re-creates a lapsed lease, ignoring the limit', async ({ state, advance }) => {
    await state.leaseAcquire(['k'], [1], 'a', 1);
    await advance(1100);
    await state.leaseAcquire(['k'], [1], 'b', 60);
    await state.leaseRenew(['k'], 'a', 60);
    assert.equal(await state.leaseCount('k'), 2);
  });

  t('leases: concurrent acquires never exceed the limit', async ({ state }) => {
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => state.leaseAcquire(['k'], [3], `m${i}`, 60)));
    assert.equal(got.filter((r) => r === -1).length, 3);
    assert.equal(await state.leaseCount('k'), 3);
  });

  t('lists: newest first, capped at maxLength, expire after the last push', async ({ state, advance }) => {
    for (const v of ['a', 'b', 'c', 'd']) await state.listPush('l', v, 3, 1);
    assert.deepEqual(await state.listRange('l', 10), ['d', 'c', 'b']);
    assert.deepEqual(await state.listRange('l', 2), ['d', 'c']);
    assert.deepEqual(await state.listRange('missing', 5), []);
    await state.listPush('m', ['x', 'y', 'z'], 2, 60);
    assert.deepEqual(await state.listRange('m', 10), ['z', 'y'], 'several values: the last pushed is first');
    await advance(1100);
    assert.deepEqual(await state.listRange('l', 10), []);
  });
}
