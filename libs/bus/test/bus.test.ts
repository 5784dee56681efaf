import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishWithin, BusTimeoutError, dueIn, NOT_BEFORE_HEADER, type Bus, type InRecord } from '../src/bus.js';
import { MemoryBus } from '../src/memory-bus.js';

const out = (key: string) => ({ key, value: Buffer.from(key) });

test('publishWithin rejects with BusTimeoutError when publish is slower than the bound', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 1 });
  await bus.publish('t', [out('fills the topic')]);
  const started = Date.now();
  await assert.rejects(publishWithin(bus, 't', [out('waits')], 30), (e: unknown) => e instanceof BusTimeoutError && e.name === 'BusTimeoutError' && /\bt\b.*30 ms/.test(e.message));
  assert.ok(Date.now() - started < 1_000);
  await bus.close();
});

test('publishWithin resolves when publish is within the bound', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 10 });
  await publishWithin(bus, 't', [out('a')], 1_000);
  await bus.close();
});

test('publishWithin passes on the error of a failing publish', async () => {
  const failing = { publish: async () => Promise.reject(new Error('broker down')) } as unknown as Bus;
  await assert.rejects(publishWithin(failing, 't', [out('a')], 1_000), /broker down/);
});

test('dueIn reads the not-before header', () => {
  const r = (headers: Record<string, string>): InRecord => ({ topic: 't', partition: 0, offset: '0', key: null, value: Buffer.alloc(0), headers });
  assert.equal(dueIn(r({}), 1_000), 0);
  assert.equal(dueIn(r({ [NOT_BEFORE_HEADER]: '1500' }), 1_000), 500);
  assert.equal(dueIn(r({ [NOT_BEFORE_HEADER]: '500' }), 1_000), 0);
  assert.equal(dueIn(r({ [NOT_BEFORE_HEADER]: 'garbage' }), 1_000), 0);
});
