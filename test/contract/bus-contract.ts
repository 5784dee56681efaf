import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NOT_BEFORE_HEADER, type Bus, type InRecord } from '@portcullis/bus';
import { waitFor } from '../support/wait.js';

/**
 * What every Bus must do, run against the in-process bus and against Kafka.
 * Topic and group names are fresh per test so runs never see each other.
 */
export function busContract(makeBus: () => Promise<Bus>, caps: { notBeforeHoldsPartition: boolean } = { notBeforeHoldsPartition: true }): void {
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
      await bus.publish(
        topic,
        ['first', 'second', 'third'].map((v) => ({ key: 'k', value: Buffer.from(v), headers: { v } })),
      );
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
      await bus.publish(
        topic,
        ['r0', 'r1', 'r2', 'r3', 'r4'].map((v) => ({ key: 'k', value: Buffer.from(`${v}-value`), headers: { v } })),
      );
      const [bounds] = await bus.offsets(topic);
      assert.ok(bounds, 'the partition is listed');
      assert.equal(BigInt(bounds.high) - BigInt(bounds.low), 5n);
      const second = String(BigInt(bounds.low) + 1n);
      const got = await bus.read(topic, { partition: bounds.partition, from: second, limit: 3 });
      assert.deepEqual(
        got.map((r) => r.headers.v),
        ['r1', 'r2', 'r3'],
      );
      assert.deepEqual(
        got.map((r) => r.offset),
        [1n, 2n, 3n].map((d) => String(BigInt(bounds.low) + d)),
      );
      assert.equal(got[0]!.value.toString(), 'r1-value');
      assert.equal(got[0]!.size, 'r1-value'.length);
      assert.ok(Math.abs(Date.parse(got[0]!.timestamp) - Date.now()) < 600_000, `a time of writing: ${got[0]!.timestamp}`);
      const heads = await bus.read(topic, { partition: bounds.partition, from: bounds.low, limit: 100, headersOnly: true });
      assert.deepEqual(
        heads.map((r) => [r.headers.v, r.value.length, r.size]),
        [0, 1, 2, 3, 4].map((i) => [`r${i}`, 0, 'r0-value'.length]),
      );
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
      assert.deepEqual(
        got.map((r) => r.value.toString()),
        records.map((r) => r.value.toString()),
      );
      assert.equal(got[3]!.headers.n, '3');
      assert.equal(got[3]!.key, 'same-key');
    });
  });

  /** Publishes `values` and consumes them; `failing` throws its first `times` attempts. */
  async function withFailing(bus: Bus, values: string[], failing: string, times: number, concurrency: number) {
    const topic = fresh('retry');
    await bus.ensureTopics([spec(topic)]);
    const seen: string[] = [];
    let failures = 0;
    const handle = async (r: InRecord) => {
      const v = r.value.toString();
      if (v === failing && failures < times) {
        failures++;
        throw new Error('dependency down');
      }
      seen.push(v);
    };
    const sub = await bus.consume({ group: fresh('g'), topic, concurrency, handle });
    await bus.publish(
      topic,
      values.map((v) => ({ key: 'k', value: Buffer.from(v) })),
    );
    await waitFor('all handled', () => seen.length === values.length, 30_000);
    await sub.stop();
    return { seen, failures };
  }

  it('hands a record over again when the handler fails, and skips nothing', async () => {
    await withBus(async (bus) => {
      const { seen, failures } = await withFailing(bus, ['a', 'b', 'c'], 'b', 2, 1);
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
      await bus.publish(
        topic,
        ['1', '2', '3'].map((v) => ({ key: 'k', value: Buffer.from(v) })),
      );
      await waitFor('first three', () => first.length === 3, 30_000);
      await sub1.stop();
      await bus.publish(
        topic,
        ['4', '5'].map((v) => ({ key: 'k', value: Buffer.from(v) })),
      );
      const second: string[] = [];
      const sub2 = await bus.consume({ group, topic, concurrency: 1, handle: async (r) => void second.push(r.value.toString()) });
      await waitFor('the last two', () => second.length >= 2, 30_000);
      await sub2.stop();
      assert.deepEqual(second, ['4', '5']);
    });
  });

  /** A handler that holds one record (by value) until released, then fails it; the others pass. */
  function holding(stuck: string, seen: string[]) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = 0;
    return {
      release,
      held: () => held,
      handle: async (r: InRecord) => {
        const v = r.value.toString();
        if (v === stuck) {
          held++;
          await released;
          throw new Error('gave up on it');
        }
        seen.push(v);
      },
    };
  }

  it('goes on with the other records of a partition while one is stuck in its handler', async () => {
    await withBus(async (bus) => {
      const topic = fresh('stuck');
      await bus.ensureTopics([spec(topic)]);
      const seen: string[] = [];
      const h = holding('stuck', seen);
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency: 4, handle: h.handle });
      const after = Array.from({ length: 20 }, (_, i) => `after-${i}`);
      await bus.publish(
        topic,
        ['before', 'stuck', ...after].map((v) => ({ key: 'k', value: Buffer.from(v) })),
      );
      await waitFor('the records after the stuck one', () => seen.length === 21, 30_000);
      assert.equal(h.held(), 1, 'the stuck record is still in its handler');
      h.release();
      await sub.stop();
      assert.deepEqual(seen, ['before', ...after]);
    });
  });

  it('hands the stuck record over again after a restart, and none before it', async () => {
    await withBus(async (bus) => {
      const topic = fresh('stuck-restart');
      const group = fresh('g');
      await bus.ensureTopics([spec(topic)]);
      const first: string[] = [];
      const h = holding('stuck', first);
      const sub1 = await bus.consume({ group, topic, concurrency: 4, handle: h.handle });
      await bus.publish(
        topic,
        ['a', 'b', 'stuck', 'c', 'd'].map((v) => ({ key: 'k', value: Buffer.from(v) })),
      );
      await waitFor('the others', () => first.length === 4, 30_000);
      // Stopping waits for the record in hand; it is given up on (as a budget would) meanwhile.
      const stopped = sub1.stop();
      setTimeout(h.release, 300);
      await stopped;
      const second: string[] = [];
      const sub2 = await bus.consume({ group, topic, concurrency: 4, handle: async (r) => void second.push(r.value.toString()) });
      await waitFor('the stuck record again', () => second.includes('stuck'), 30_000);
      await sub2.stop();
      // Kafka hands over again what followed it (its offset bounds the commit); never what came before.
      assert.equal(second[0], 'stuck');
      assert.ok(!second.includes('a') && !second.includes('b'), `handed again: ${second.join(' ')}`);
    });
  });

  it('retries a failing record in place without holding up the others', async () => {
    await withBus(async (bus) => {
      // Back-off 200, 400, 800, 1600 ms: the others are handled long before it passes.
      const { seen, failures } = await withFailing(bus, ['x', 'failing', 'y', 'z'], 'failing', 4, 4);
      assert.equal(failures, 4);
      assert.deepEqual(seen, ['x', 'y', 'z', 'failing']);
    });
  });

  it('hands nothing after a not-before record before it, and keeps their order', async () => {
    await withBus(async (bus) => {
      const topic = fresh('delay-order');
      await bus.ensureTopics([spec(topic)]);
      const seen: { v: string; at: number }[] = [];
      // The in-process bus keeps this order only with one record in hand at a time.
      const concurrency = caps.notBeforeHoldsPartition ? 4 : 1;
      const sub = await bus.consume({ group: fresh('g'), topic, concurrency, handle: async (r) => void seen.push({ v: r.value.toString(), at: Date.now() }) });
      const due = Date.now() + 1500;
      await bus.publish(topic, [
        { key: 'k', value: Buffer.from('first'), headers: { [NOT_BEFORE_HEADER]: String(due) } },
        { key: 'k', value: Buffer.from('second'), headers: { [NOT_BEFORE_HEADER]: String(due - 1000) } },
        { key: 'k', value: Buffer.from('plain') },
      ]);
      await waitFor('all three', () => seen.length === 3, 30_000);
      await sub.stop();
      assert.deepEqual(
        seen.map((s) => s.v),
        ['first', 'second', 'plain'],
      );
      assert.ok(seen[0]!.at >= due, `handled ${due - seen[0]!.at} ms early`);
    });
  });
}
