import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdict, type MailMeta, type VerdictAction } from '@portcullis/contract';
import { MemoryState, claimFate, readFate } from '@portcullis/state';
import { gate, FATE_GRACE_MS } from '../../src/delivery/gate.js';
import { sampleMeta } from '@portcullis/contract/testing';

const ID = '01J0000000ABCDEFGHJKMNPQRS';
type Decided = MailMeta & { verdict: NonNullable<MailMeta['verdict']> };

function decided(action: VerdictAction, deadline?: number): Decided {
  return {
    ...sampleMeta({ id: ID }),
    verdict: verdict(action, 'spam', 'content.verdict'),
    ...(deadline !== undefined ? { replyTo: { channel: 'edge-1', deadline: new Date(deadline).toISOString() } } : {}),
  };
}

test('a deliver verdict with no fate is delivered', async () => {
  const state = new MemoryState();
  assert.deepEqual(await gate(decided('deliver', Date.now() + 10_000), state), { action: 'deliver' });
  assert.equal(await readFate(state, ID), null);
});

test("fate 'tempfailed' or 'rejected' drops the mail whatever the verdict", async () => {
  for (const fate of ['tempfailed', 'rejected'] as const) {
    for (const action of ['deliver', 'quarantine', 'reject'] as const) {
      const state = new MemoryState();
      await claimFate(state, ID, fate);
      const d = await gate(decided(action), state);
      assert.equal(d.action, 'drop', `${fate}/${action}`);
    }
  }
});

test('a quarantine verdict is quarantined with its reason', async () => {
  assert.deepEqual(await gate(decided('quarantine'), new MemoryState()), { action: 'quarantine', reason: 'spam' });
});

test('a reject before the edge deadline (plus grace) with no fate waits', async () => {
  const state = new MemoryState();
  const now = Date.now();
  const deadline = now + 10_000;
  const d = await gate(decided('reject', deadline), state, now);
  assert.deepEqual(d, { action: 'wait', until: deadline + FATE_GRACE_MS });
  // Within the grace period it still waits.
  assert.equal((await gate(decided('reject', deadline), state, deadline + FATE_GRACE_MS - 1)).action, 'wait');
  assert.equal(await readFate(state, ID), null, 'waiting must not claim a fate');
});

test('a reject after the deadline is quarantined and the fate becomes quarantined', async () => {
  const state = new MemoryState();
  const deadline = Date.now() - 60_000;
  const d = await gate(decided('reject', deadline), state, deadline + FATE_GRACE_MS);
  assert.equal(d.action, 'quarantine');
  assert.match(d.action === 'quarantine' ? d.reason : '', /late reject: spam/);
  assert.equal(await readFate(state, ID), 'quarantined');
});

test('a reject without a reply channel is quarantined at once', async () => {
  const state = new MemoryState();
  assert.equal((await gate(decided('tempfail'), state)).action, 'quarantine');
  assert.equal(await readFate(state, ID), 'quarantined');
});

test("a reject the edge already refused in session ('rejected') is dropped", async () => {
  const state = new MemoryState();
  await claimFate(state, ID, 'rejected');
  const d = await gate(decided('reject', Date.now() + 10_000), state);
  assert.equal(d.action, 'drop');
  assert.equal(await readFate(state, ID), 'rejected');
});

test("a reject the edge answered 250 for ('accepted') is quarantined, not waited on", async () => {
  const state = new MemoryState();
  await claimFate(state, ID, 'accepted');
  const d = await gate(decided('reject', Date.now() + 10_000), state);
  assert.equal(d.action, 'quarantine');
  assert.equal(await readFate(state, ID), 'accepted');
});
