import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { MemoryState } from '../src/memory-state.js';
import { sharedStateContract } from './state-contract.js';

function clocked(maxEntries = 100) {
  const clock = { t: 1_000_000 };
  return { clock, state: new MemoryState({ maxEntries, now: () => clock.t }) };
}

test('the first claim wins; later claims get the first value', async () => {
  const { state } = clocked();
  assert.equal(await state.claim('k', 'first', 60), 'first');
  assert.equal(await state.claim('k', 'second', 60), 'first');
  assert.equal(await state.get('k'), 'first');
});

test('concurrent claims agree on one winner', async () => {
  const { state } = clocked();
  const got = await Promise.all(['a', 'b', 'c'].map((v) => state.claim('k', v, 60)));
  assert.deepEqual(got, ['a', 'a', 'a']);
});

test('a claim expires after its TTL and can then be claimed again', async () => {
  const { clock, state } = clocked();
  await state.claim('k', 'first', 10);
  clock.t += 9_999;
  assert.equal(await state.get('k'), 'first');
  assert.equal(await state.claim('k', 'second', 10), 'first');
  clock.t += 1;
  assert.equal(await state.get('k'), null);
  assert.equal(await state.claim('k', 'second', 10), 'second');
});

test('set overwrites and restarts the TTL', async () => {
  const { clock, state } = clocked();
  await state.set('k', 'a', 10);
  clock.t += 5_000;
  await state.set('k', 'b', 10);
  clock.t += 9_000;
  assert.equal(await state.get('k'), 'b');
});

test('when full, the oldest entries are evicted first', async () => {
  const { state } = clocked(3);
  await state.set('k1', '1', 60);
  await state.claim('k2', '2', 60);
  await state.set('k3', '3', 60);
  await state.set('k1', '1b', 60); // rewriting k1 makes it the newest
  await state.set('k4', '4', 60);
  assert.equal(await state.get('k2'), null);
  assert.equal(await state.get('k1'), '1b');
  assert.equal(await state.get('k3'), '3');
  assert.equal(await state.get('k4'), '4');
});

test('publish reaches every subscriber of the channel, and only them', async () => {
  const state = new MemoryState();
  const a: string[] = [];
  const b: string[] = [];
  const other: string[] = [];
  await state.subscribe('ch', (m) => a.push(m));
  await state.subscribe('ch', (m) => b.push(m));
  await state.subscribe('other', (m) => other.push(m));
  await state.publish('ch', 'one');
  await state.publish('ch', 'two');
  await tick();
  assert.deepEqual(a, ['one', 'two']);
  assert.deepEqual(b, ['one', 'two']);
  assert.deepEqual(other, []);
});

test('unsubscribe stops delivery', async () => {
  const state = new MemoryState();
  const got: string[] = [];
  const unsubscribe = await state.subscribe('ch', (m) => got.push(m));
  await state.publish('ch', 'before');
  await tick();
  await unsubscribe();
  await state.publish('ch', 'after');
  await tick();
  assert.deepEqual(got, ['before']);
});

test('publish to a channel nobody listens on is fine', async () => {
  const state = new MemoryState();
  await state.publish('nobody', 'x');
  assert.equal(state.unhealthy(), null);
});

sharedStateContract('MemoryState', async () => {
  const clock = { t: 1_000_000 };
  return {
    state: new MemoryState({ maxEntries: 1000, now: () => clock.t }),
    advance: async (ms) => void (clock.t += ms),
    close: async () => undefined,
  };
});

test('counters and lease sets are bounded too', async () => {
  const { state } = clocked(3);
  for (let i = 0; i < 10; i++) await state.incr(`c${i}`, 60);
  for (let i = 0; i < 10; i++) await state.leaseAcquire([`l${i}`], [1], 'm', 60);
  assert.equal((await state.scanKeys('c', 100)).length, 3);
  assert.equal((await state.scanKeys('l', 100)).length, 3);
  assert.equal(await state.get('c9'), '1');
  assert.equal(await state.leaseCount('l9'), 1);
  assert.equal(await state.leaseCount('l0'), 0);
});

test('an increment keeps the counter where it is in the eviction order', async () => {
  const { state } = clocked(2);
  await state.incr('old', 60);
  await state.set('new', 'x', 60);
  await state.incr('old', 60);
  await state.set('newest', 'x', 60);
  assert.equal(await state.get('old'), null);
  assert.equal(await state.get('new'), 'x');
});
