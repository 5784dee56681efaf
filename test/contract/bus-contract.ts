import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NOT_BEFORE_HEADER, type Bus, type InRecord } from '@portcullis/bus';
import { waitFor } from '../support/wait.js';

/**
 * What every Bus must do, run against the in-process bus and against Kafka.
 * Topic and group names are fresh per test so runs never see each other.
 */
export function busContract(makeBus: () => Promise<Bus>): void {
  const fresh = (what: string) => `contract.${what}.${randomBytes(4).toString('hex')}`;
  const spec = (name: string) => ({ name, maxRecordBytes: 8 * 1024 * 1024 });

  async function withBus(fn: (bus: Bus) => Promise<void>): Promise<void> {
    const bus = await makeBus();
    try {
      await fn(bus);
    } finally {
      await bus.close();
    }
  }

  it('fetches a record of a fetchable topic by its position, and null for a position that holds none', async () => {
    await withBus(async (bus) => {
      const topic = fresh('fetch');
      await bus.ensureTopics([{ ...spec(topic), fetchable: true }]);
      const positions: InRecord[] = [];
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency: 1, handle: async (r) => void positions.push(r) });
      await bus.publish(topic, ['first', 'second', 'third'].map((v) => ({ key: 'k', value: Buffer.from(v), headers: { v } })));
      await waitFor('positions', () => positions.length >= 3, 30_000);
      await sub.stop();
      const second = positions[1]!;
      const got = await bus.fetch(topic, second.partition, second.offset);
      assert.equal(got?.value.toString(), 'second');
      assert.equal(got?.headers.v, 'second');
      assert.equal(got?.offset, second.offset);
      assert.equal(await bus.fetch(topic, second.partition, String(BigInt(positions[2]!.offset) + 1000n)), null);
    });
  });

  it('reads a stretch of a fetchable topic for operator tools: offsets, order, limit, headers only', async () => {
    await withBus(async (bus) => {
      const topic = fresh('range');
      await bus.ensureTopics([{ ...spec(topic), fetchable: true }]);
      // Nobody consumes it (like the dead-letter topic): the records are kept all the same.
      await bus.publish(topic, ['r0', 'r1', 'r2', 'r3', 'r4'].map((v) => ({ key: 'k', value: Buffer.from(`${v}-value`), headers: { v } })));
      const [bounds] = await bus.offsets(topic);
      assert.ok(bounds, 'the partition is listed');
      assert.equal(BigInt(bounds.high) - BigInt(bounds.low), 5n);
      const second = String(BigInt(bounds.low) + 1n);
      const got = await bus.read(topic, { partition: bounds.partition, from: second, limit: 3 });
      assert.deepEqual(got.map((r) => r.headers.v), ['r1', 'r2', 'r3']);
      assert.deepEqual(got.map((r) => r.offset), [1n, 2n, 3n].map((d) => String(BigInt(bounds.low) + d)));
      assert.equal(got[0]!.value.toString(), 'r1-value');
      assert.equal(got[0]!.size, 'r1-value'.length);
      assert.ok(Math.abs(Date.parse(got[0]!.timestamp) - Date.now()) < 600_000, `a time of writing: ${got[0]!.timestamp}`);
      const heads = await bus.read(topic, { partition: bounds.partition, from: bounds.low, limit: 100, headersOnly: true });
      assert.deepEqual(heads.map((r) => [r.headers.v, r.value.length, r.size]), [0, 1, 2, 3, 4].map((i) => [`r${i}`, 0, 'r0-value'.length]));
      assert.deepEqual(await bus.read(topic, { partition: bounds.partition, from: bounds.high, limit: 10 }), []);
    });
  });

  it('delivers what was published, with key and headers, in order per key', async () => {
    await withBus(async (bus) => {
      const topic = fresh('order');
      await bus.ensureTopics([spec(topic)]);
      const got: InRecord[] = [];
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency: 1, handle: async (r) => void got.push(r) });
      const records = Array.from({ length: 20 }, (_, i) => ({ key: 'same-key', value: Buffer.from(`record ${i}`), headers: { n: String(i) } }));
      await bus.publish(topic, records);
      await waitFor('all records', () => got.length >= 20, 30_000);
      await sub.stop();
      assert.deepEqual(got.map((r) => r.value.toString()), records.map((r) => r.value.toString()));
      assert.equal(got[3]!.headers.n, '3');
      assert.equal(got[3]!.key, 'same-key');
    });
  });

  it('hands a record over again when the handler fails, and skips nothing', async () => {
    await withBus(async (bus) => {
      const topic = fresh('retry');
      await bus.ensureTopics([spec(topic)]);
      const seen: string[] = [];
      let failures = 0;
      const sub = await bus.consume({
        group: fresh('g'),
        topic,
        concurrency: 1,
        handle: async (r) => {
          const v = r.value.toString();
          if (v === 'b' && failures < 2) {
            failures++;
            throw new Error('dependency down');
          }
          seen.push(v);
        },
      });
      await bus.publish(topic, ['a', 'b', 'c'].map((v) => ({ key: 'k', value: Buffer.from(v) })));
      await waitFor('all three handled', () => seen.includes('c'), 30_000);
      await sub.stop();
      assert.equal(failures, 2);
      assert.deepEqual(seen, ['a', 'b', 'c']);
    });
  });

  it('does not hand a record over before its not-before time', async () => {
    await withBus(async (bus) => {
      const topic = fresh('delay');
      await bus.ensureTopics([spec(topic)]);
      let handledAt = 0;
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency: 1, handle: async () => void (handledAt = Date.now()) });
      const due = Date.now() + 1500;
      await bus.publish(topic, [{ key: 'k', value: Buffer.from('later'), headers: { [NOT_BEFORE_HEADER]: String(due) } }]);
      await waitFor('the delayed record', () => handledAt > 0, 30_000);
      await sub.stop();
      assert.ok(handledAt >= due, `handled ${due - handledAt} ms early`);
    });
  });

  it('carries a record of several MiB', async () => {
    await withBus(async (bus) => {
      const topic = fresh('large');
      await bus.ensureTopics([spec(topic)]);
      const big = randomBytes(6 * 1024 * 1024);
      let got: Buffer | null = null;
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency: 1, handle: async (r) => void (got = r.value) });
      await bus.publish(topic, [{ key: 'k', value: big }]);
      await waitFor('the large record', () => got, 60_000);
      await sub.stop();
      assert.ok(big.equals(got!));
    });
  });

  it('resumes after a consumer stops: records done are not handed over again, the rest are', async () => {
    await withBus(async (bus) => {
      const topic = fresh('resume');
      const group = fresh('g');
      await bus.ensureTopics([spec(topic)]);
      const first: string[] = [];
      const sub1 = await bus.consume({ group, topic, concurrency: 1, handle: async (r) => void first.push(r.value.toString()) });
      await bus.publish(topic, ['1', '2', '3'].map((v) => ({ key: 'k', value: Buffer.from(v) })));
      await waitFor('first three', () => first.length === 3, 30_000);
      await sub1.stop();
      await bus.publish(topic, ['4', '5'].map((v) => ({ key: 'k', value: Buffer.from(v) })));
      const second: string[] = [];
      const sub2 = await bus.consume({ group, topic, concurrency: 1, handle: async (r) => void second.push(r.value.toString()) });
      await waitFor('the last two', () => second.length >= 2, 30_000);
      await sub2.stop();
      assert.deepEqual(second, ['4', '5']);
    });
  });
}
