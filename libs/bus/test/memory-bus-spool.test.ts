import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRegistry } from '@portcullis/telemetry';
import { MemoryBus } from '../src/memory-bus.js';
import type { OutRecord } from '../src/bus.js';

const MiB = 1024 * 1024;
const spoolDir = () => mkdtempSync(join(tmpdir(), 'portcullis-spool-test-'));
const big = (key: string, bytes: number): OutRecord => ({ key, value: Buffer.alloc(bytes, key.charCodeAt(0)), headers: { k: key } });

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(5);
  }
}

async function memoryBytes(registry: ReturnType<typeof createRegistry>): Promise<number> {
  const m = /^portcullis_bus_memory_bytes (\d+)/m.exec(await registry.metrics());
  return Number(m?.[1]);
}

test('a kept topic writes each record to a 0600 file in a 0700 directory, reads it back, and holds none in memory', async () => {
  const dir = spoolDir();
  const registry = createRegistry();
  const bus = new MemoryBus({ maxRecordsPerTopic: 2, maxBytesPerTopic: MiB, spoolDir: dir, registry });
  await bus.ensureTopics([{ name: 'kept', maxRecordBytes: 8 * MiB, fetchable: true, retentionMs: 60_000 }]);
  // Far more than maxRecordsPerTopic and maxBytesPerTopic: nothing waits, nothing is dropped.
  for (let i = 0; i < 6; i++) await bus.publish('kept', [big(String.fromCharCode(97 + i), 2 * MiB)]);
  const files = readdirSync(join(dir, 'kept'));
  assert.equal(files.length, 6);
  assert.equal(statSync(join(dir, 'kept')).mode & 0o777, 0o700);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of files) assert.equal(statSync(join(dir, 'kept', f)).mode & 0o777, 0o600, f);
  assert.equal(await memoryBytes(registry), 0, 'no record of a kept topic is held in memory');
  assert.match(await registry.metrics(), /portcullis_bus_spool_bytes\{topic="kept"\} 12582912/);
  const first = await bus.fetch('kept', 0, '0');
  assert.equal(first?.headers.k, 'a');
  assert.equal(first?.value.length, 2 * MiB);
  assert.ok(first?.value.every((b) => b === 97));
  await bus.close();
});

test('a kept topic keeps records after they are handled, until their retention ends', async () => {
  const dir = spoolDir();
  const bus = new MemoryBus({ maxRecordsPerTopic: 10, spoolDir: dir });
  await bus.ensureTopics([{ name: 'kept', maxRecordBytes: MiB, fetchable: true, retentionMs: 60_000 }]);
  const seen: string[] = [];
  const sub = await bus.consume({ group: 'g', topic: 'kept', concurrency: 2, handle: async (r) => void seen.push(r.key!) });
  await bus.publish('kept', [big('a', 10), big('b', 10)]);
  await until(() => seen.length === 2);
  await sub.stop();
  assert.equal(readdirSync(join(dir, 'kept')).length, 2, 'handled, still kept');
  await bus.sweep(Date.now() + 59_000);
  assert.equal(readdirSync(join(dir, 'kept')).length, 2, 'within retention');
  await bus.sweep(Date.now() + 61_000);
  assert.equal(readdirSync(join(dir, 'kept')).length, 0, 'past retention');
  assert.equal(await bus.fetch('kept', 0, '0'), null);
  assert.deepEqual(await bus.offsets('kept'), [{ partition: 0, low: '2', high: '2' }]);
  await bus.close();
});

test('a self-fed topic takes every record into files and removes each once handled', async () => {
  const dir = spoolDir();
  const bus = new MemoryBus({ maxRecordsPerTopic: 1, spoolDir: dir });
  await bus.ensureTopics([{ name: 'retry', maxRecordBytes: MiB, selfFed: true }]);
  await bus.publish('retry', [big('a', 100), big('b', 100), big('c', 100)]);
  assert.equal(readdirSync(join(dir, 'retry')).length, 3);
  const seen: string[] = [];
  const sub = await bus.consume({ group: 'g', topic: 'retry', concurrency: 1, handle: async (r) => void seen.push(r.value.toString().slice(0, 1)) });
  await until(() => seen.length === 3 && readdirSync(join(dir, 'retry')).length === 0);
  await sub.stop();
  assert.deepEqual(seen, ['a', 'b', 'c']);
  await bus.close();
});

test('after a restart the spool is read back: records are handed over again and offsets go on', async () => {
  const dir = spoolDir();
  const first = new MemoryBus({ maxRecordsPerTopic: 10, spoolDir: dir });
  const specs = [
    { name: 'kept', maxRecordBytes: MiB, fetchable: true, retentionMs: 60_000 },
    { name: 'retry', maxRecordBytes: MiB, selfFed: true },
  ];
  await first.ensureTopics(specs);
  await first.publish('kept', [big('a', 10), big('b', 10)]);
  await first.publish('retry', [{ ...big('r', 10), headers: { 'portcullis-not-before': String(Date.now() + 300) } }]);
  await first.close();

  const second = new MemoryBus({ maxRecordsPerTopic: 10, spoolDir: dir });
  await second.ensureTopics(specs);
  const kept: string[] = [];
  const retried: number[] = [];
  const subs = [
    await second.consume({ group: 'index', topic: 'kept', concurrency: 1, handle: async (r) => void kept.push(`${r.offset}:${r.key}`) }),
    await second.consume({ group: 'retry', topic: 'retry', concurrency: 1, handle: async () => void retried.push(Date.now()) }),
  ];
  await until(() => kept.length === 2 && retried.length === 1);
  await second.publish('kept', [big('c', 10)]);
  await until(() => kept.length === 3);
  await Promise.all(subs.map((s) => s.stop()));
  assert.deepEqual(kept, ['0:a', '1:b', '2:c']);
  assert.equal((await second.fetch('kept', 0, '1'))?.key, 'b');
  await second.close();
});

test('a write cut short by a crash (a .tmp file) was never acknowledged: it is removed at start, not handed over', async () => {
  const dir = spoolDir();
  const first = new MemoryBus({ maxRecordsPerTopic: 10, spoolDir: dir });
  const spec = { name: 'kept', maxRecordBytes: MiB, fetchable: true, retentionMs: 60_000 };
  await first.ensureTopics([spec]);
  await first.publish('kept', [big('a', 10)]);
  await first.close();
  writeFileSync(join(dir, 'kept', '00000000000000000001.rec.tmp'), '{"key":"b"');
  const second = new MemoryBus({ maxRecordsPerTopic: 10, spoolDir: dir });
  await second.ensureTopics([spec]);
  assert.deepEqual(readdirSync(join(dir, 'kept')), ['00000000000000000000.rec']);
  assert.deepEqual(
    (await second.read('kept', { partition: 0, from: '0', limit: 10 })).map((r) => r.key),
    ['a'],
  );
  await second.close();
});

test('a pipeline topic is bounded in octets: publish waits for room, and a record larger than the bound goes alone', async () => {
  const registry = createRegistry();
  const bus = new MemoryBus({ maxRecordsPerTopic: 100, maxBytesPerTopic: MiB, registry });
  await bus.publish('t', [big('a', 700 * 1024)]);
  let second = false;
  const waiting = bus.publish('t', [big('b', 700 * 1024)]).then(() => (second = true));
  await delay(50);
  assert.equal(second, false, 'publish waits while the topic holds its octets');
  assert.equal(await memoryBytes(registry), 700 * 1024);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: string[] = [];
  const sub = await bus.consume({
    group: 'g',
    topic: 't',
    concurrency: 1,
    handle: async (r) => {
      if (r.key === 'b') await gate;
      seen.push(r.key!);
    },
  });
  await waiting;
  // b is in hand (700 KiB held); a record of 3 MiB waits for it, then goes through on its own.
  let third = false;
  const huge = bus.publish('t', [big('c', 3 * MiB)]).then(() => (third = true));
  await delay(50);
  assert.equal(third, false);
  release();
  await huge;
  await until(() => seen.length === 3);
  await sub.stop();
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.equal(await memoryBytes(registry), 0);
  await bus.close();
});

test('records of kept topics are loaded for handlers within one octet bound for all of them, whatever the concurrency', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100, maxBytesPerTopic: MiB, spoolDir: spoolDir() });
  const topics = ['retry.t0', 'retry.t1'];
  await bus.ensureTopics(topics.map((name) => ({ name, maxRecordBytes: MiB, selfFed: true })));
  for (const t of topics)
    await bus.publish(
      t,
      ['a', 'b', 'c', 'd'].map((k) => big(k, 600 * 1024)),
    );
  let inHand = 0;
  let most = 0;
  let handled = 0;
  const subs = await Promise.all(
    topics.map((topic) =>
      bus.consume({
        group: 'g',
        topic,
        concurrency: 4,
        handle: async () => {
          most = Math.max(most, ++inHand);
          await delay(20);
          inHand--;
          handled++;
        },
      }),
    ),
  );
  await until(() => handled === 8);
  await Promise.all(subs.map((s) => s.stop()));
  assert.equal(most, 1, 'two 600 KiB records would pass the 1 MiB bound');
  await bus.close();
});

test('an idle worker keeps no reference to the record it handled last (nor does a finished slot)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const bus = new MemoryBus({ maxRecordsPerTopic: 100, spoolDir: spoolDir() });
  await bus.ensureTopics([{ name: 'kept', maxRecordBytes: MiB, fetchable: true, retentionMs: 60_000 }]);
  const refs: WeakRef<Buffer>[] = [];
  const subs = await Promise.all(
    ['pipeline', 'kept'].map((topic) => bus.consume({ group: 'g', topic, concurrency: 4, handle: async (r) => void refs.push(new WeakRef(r.value)) })),
  );
  for (const topic of ['pipeline', 'kept'])
    await bus.publish(
      topic,
      ['a', 'b', 'c', 'd'].map((k) => big(k, 256 * 1024)),
    );
  await until(() => refs.length === 8);
  for (let i = 0; i < 5 && refs.some((r) => r.deref()); i++) {
    await delay(10); // a WeakRef target stays alive until the job that made it ends
    gc();
  }
  assert.deepEqual(
    refs.map((r) => r.deref() === undefined),
    refs.map(() => true),
    'every handled value was collected',
  );
  await Promise.all(subs.map((s) => s.stop()));
  await bus.close();
});
