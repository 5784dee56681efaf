import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryState } from '../src/memory-state.js';
import { claimFate, readFate, FATE_TTL_SECONDS } from '../src/fate.js';

test('readFate is null before anyone claims', async () => {
  assert.equal(await readFate(new MemoryState(), 'ID1'), null);
});

test('the first fate claimed is the one everybody sees', async () => {
  const state = new MemoryState();
  assert.equal(await claimFate(state, 'ID1', 'rejected'), 'rejected');
  assert.equal(await claimFate(state, 'ID1', 'quarantined'), 'rejected');
  assert.equal(await readFate(state, 'ID1'), 'rejected');
});

test('fates of different messages are independent', async () => {
  const state = new MemoryState();
  await claimFate(state, 'ID1', 'accepted');
  assert.equal(await claimFate(state, 'ID2', 'tempfailed'), 'tempfailed');
  assert.equal(await readFate(state, 'ID1'), 'accepted');
});

test('a fate lasts its TTL (a week)', async () => {
  assert.equal(FATE_TTL_SECONDS, 7 * 24 * 3600);
  const clock = { t: 0 };
  const state = new MemoryState({ maxEntries: 10, now: () => clock.t });
  await claimFate(state, 'ID1', 'accepted');
  clock.t = FATE_TTL_SECONDS * 1000 - 1;
  assert.equal(await readFate(state, 'ID1'), 'accepted');
  clock.t = FATE_TTL_SECONDS * 1000;
  assert.equal(await readFate(state, 'ID1'), null);
});
