import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryBus } from '../src/memory-bus.js';
import { NOT_BEFORE_HEADER, type InRecord, type OutRecord } from '../src/bus.js';

const rec = (key: string, headers?: Record<string, string>): OutRecord => ({ key, value: Buffer.from(`value-${key}`), ...(headers ? { headers } : {}) });

async function until(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(2);
  }
}

test('publish then consume delivers in order, with key, value and headers', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const seen: InRecord[] = [];
  const sub = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async (r) => void seen.push(r) });
  await bus.publish('t', [rec('a', { h: '1' }), rec('b', { h: '2' })]);
  await bus.publish('t', [rec('c')]);
  await until(() => seen.length === 3);
  await sub.stop();
  assert.deepEqual(
    seen.map((r) => r.key),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    seen.map((r) => r.offset),
    ['0', '1', '2'],
  );
  assert.deepEqual(
    seen.map((r) => r.headers),
    [{ h: '1' }, { h: '2' }, {}],
  );
  assert.equal(seen[0]!.value.toString(), 'value-a');
  assert.equal(seen[0]!.topic, 't');
});

test('every group gets its own copy of each record', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const a: string[] = [];
  const b: string[] = [];
  const subA = await bus.consume({ group: 'a', topic: 't', concurrency: 1, handle: async (r) => void a.push(r.key!) });
  const subB = await bus.consume({ group: 'b', topic: 't', concurrency: 1, handle: async (r) => void b.push(r.key!) });
  await bus.publish('t', [rec('x'), rec('y')]);
  await until(() => a.length === 2 && b.length === 2);
  await Promise.all([subA.stop(), subB.stop()]);
  assert.deepEqual(a, ['x', 'y']);
  assert.deepEqual(b, ['x', 'y']);
});

test('a handler that throws gets the same record again, and later records wait', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const calls: string[] = [];
  let failures = 0;
  const sub = await bus.consume({
    group: 'g',
    topic: 't',
    concurrency: 1,
    handle: async (r) => {
      calls.push(r.key!);
      if (r.key === 'a' && failures++ === 0) throw new Error('transient');
    },
  });
  await bus.publish('t', [rec('a'), rec('b')]);
  await until(() => calls.length === 3);
  await sub.stop();
  assert.deepEqual(calls, ['a', 'a', 'b']);
});

test('records published before any subscriber go to the first subscriber', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  await bus.publish('t', [rec('early1'), rec('early2')]);
  const seen: string[] = [];
  const sub = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async (r) => void seen.push(r.key!) });
  await bus.publish('t', [rec('late')]);
  await until(() => seen.length === 3);
  await sub.stop();
  assert.deepEqual(seen, ['early1', 'early2', 'late']);
});

test('a full topic makes publish wait until a record is consumed', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 2 });
  await bus.publish('t', [rec('1'), rec('2')]);
  let published = false;
  const third = bus.publish('t', [rec('3')]).then(() => (published = true));
  await delay(30);
  assert.equal(published, false, 'publish must wait while the topic is full');
  const seen: string[] = [];
  const sub = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async (r) => void seen.push(r.key!) });
  await third;
  assert.equal(published, true);
  await until(() => seen.length === 3);
  await sub.stop();
  assert.deepEqual(seen, ['1', '2', '3']);
});

test('close releases a waiting publisher with an error', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 1 });
  await bus.publish('t', [rec('1')]);
  const waiting = bus.publish('t', [rec('2')]);
  await bus.close();
  await assert.rejects(waiting, /closed/);
  assert.equal(bus.unhealthy(), 'bus closed');
  await assert.rejects(bus.publish('t', [rec('3')]), /closed/);
});

test('the not-before header delays handling until that time', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const notBefore = Date.now() + 150;
  let handledAt = 0;
  const sub = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async () => void (handledAt = Date.now()) });
  await bus.publish('t', [rec('later', { [NOT_BEFORE_HEADER]: String(notBefore) })]);
  await delay(50);
  assert.equal(handledAt, 0, 'handled too early');
  await until(() => handledAt > 0);
  await sub.stop();
  assert.ok(handledAt >= notBefore - 2, `handled ${notBefore - handledAt} ms before not-before`);
});

test('after stop, a new consumer gets the records that were not handled', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const first: string[] = [];
  const sub = await bus.consume({
    group: 'g',
    topic: 't',
    concurrency: 1,
    handle: async (r) => {
      first.push(r.key!);
      if (r.key === 'b') {
        await released;
        throw new Error('interrupted');
      }
    },
  });
  await bus.publish('t', [rec('a'), rec('b'), rec('c')]);
  await until(() => first.length === 2);
  const stopped = sub.stop();
  release();
  await stopped;
  assert.deepEqual(first, ['a', 'b']);

  const second: string[] = [];
  const sub2 = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async (r) => void second.push(r.key!) });
  await until(() => second.length === 2);
  await sub2.stop();
  assert.deepEqual(second, ['b', 'c']);
});

test('one group cannot consume a topic twice at once', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 10 });
  const sub = await bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async () => {} });
  await assert.rejects(bus.consume({ group: 'g', topic: 't', concurrency: 1, handle: async () => {} }), /already consumes/);
  await sub.stop();
});
