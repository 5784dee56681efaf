import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryState, type SharedState } from '@portcullis/state';
import { AnswerCache } from '../src/cache.js';
import { parseServer, resolveServers } from '../src/servers.js';

test('TTLs are clamped to the floor and the ceiling, and count down', async () => {
  let now = 1_000_000;
  const cache = new AnswerCache({ memoryEntries: 10, minTtlSeconds: 30, maxTtlSeconds: 600, now: () => now });
  assert.equal((await cache.set('a.example', 'A', { status: 'ok', records: ['192.0.2.1'], ttl: 5 })).ttl, 30);
  assert.equal((await cache.set('b.example', 'A', { status: 'nxdomain', records: [], ttl: 86400 })).ttl, 600);
  now += 10_000;
  assert.equal((await cache.get('A.example.', 'A'))?.answer.ttl, 20);
  now += 21_000;
  assert.equal(await cache.get('a.example', 'A'), undefined);
});

test('the memory cache is bounded, least recently used first out', async () => {
  const cache = new AnswerCache({ memoryEntries: 2, minTtlSeconds: 0, maxTtlSeconds: 600 });
  const ok = { status: 'ok' as const, records: ['192.0.2.1'], ttl: 60 };
  await cache.set('a', 'A', ok);
  await cache.set('b', 'A', ok);
  await cache.get('a', 'A');
  await cache.set('c', 'A', ok);
  assert.ok(await cache.get('a', 'A'));
  assert.equal(await cache.get('b', 'A'), undefined);
});

test('a failing shared store is a miss, not an error; corrupt values are ignored', async () => {
  const errors: string[] = [];
  const broken = { get: async () => Promise.reject(new Error('down')), set: async () => Promise.reject(new Error('down')) } as unknown as SharedState;
  const cache = new AnswerCache({ memoryEntries: 0, minTtlSeconds: 0, maxTtlSeconds: 600, state: broken, onSharedError: (e) => errors.push(e.message) });
  await cache.set('a', 'A', { status: 'ok', records: [], ttl: 60 });
  assert.equal(await cache.get('a', 'A'), undefined);
  assert.deepEqual(errors, ['down', 'down']);
  const state = new MemoryState({ maxEntries: 10 });
  await state.set(AnswerCache.key('x', 'TXT'), '{not json', 60);
  const c2 = new AnswerCache({ memoryEntries: 0, minTtlSeconds: 0, maxTtlSeconds: 600, state });
  assert.equal(await c2.get('x', 'TXT'), undefined);
  await state.close();
});

test('servers: the environment overrides the config; ports default to 53', () => {
  assert.deepEqual(parseServer('[2001:db8::1]:5353'), { host: '2001:db8::1', port: 5353 });
  assert.deepEqual(parseServer('2001:db8::1'), { host: '2001:db8::1', port: 53 });
  assert.deepEqual(resolveServers(['192.0.2.1'], {}), [{ host: '192.0.2.1', port: 53 }]);
  assert.deepEqual(resolveServers(['192.0.2.1'], { PORTCULLIS_DNS_SERVERS: '127.0.0.1:15353, 127.0.0.2' }), [
    { host: '127.0.0.1', port: 15353 },
    { host: '127.0.0.2', port: 53 },
  ]);
  assert.throws(() => parseServer('a b'));
});
