import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter } from '../src/limiter.js';

test('the limiter holds queries beyond its bound until a slot frees, and lets waiters give up', async () => {
  const limiter = new Limiter(1);
  const release = await limiter.acquire();
  let second = false;
  const waiting = limiter.acquire().then((r) => {
    second = true;
    return r;
  });
  const abort = new AbortController();
  const third = limiter.acquire(abort.signal);
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false);
  abort.abort();
  await assert.rejects(third);
  release();
  release(); // a second release of the same slot changes nothing
  const r2 = await waiting;
  assert.equal(second, true);
  let fourth = false;
  const next = limiter.acquire().then(() => (fourth = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(fourth, false, 'still one slot, held by the second');
  r2();
  await next;
  assert.equal(fourth, true);
});
