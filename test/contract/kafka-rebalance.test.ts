/**
 * Kafka only (one group, two consumers; the in-process bus has one consumer per group): a record
 * still in its handler when its partition is moved by a rebalance is read again from the last
 * commit, and its late completion in the old generation commits nothing past what the partition's
 * owner has.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { InRecord } from '@portcullis/bus';
import { KAFKA_BROKERS } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { testKafkaBus } from './kafka-test-bus.js';

const newBus = () => testKafkaBus('portcullis-rebalance');

async function committed(group: string, topic: string): Promise<string> {
  const admin = new Kafka({ brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t!.partitions[0]!.offset;
  } finally {
    await admin.disconnect();
  }
}

describe('Kafka consumer: a rebalance while a record is in hand', { timeout: 180_000 }, () => {
  it('reads it again from the last commit, and its late completion commits nothing past it', async () => {
    const busA = newBus();
    const busB = newBus();
    const topic = `contract.rebalance.${randomBytes(4).toString('hex')}`;
    const group = `contract.g.${randomBytes(4).toString('hex')}`;
    try {
      await busA.ensureTopics([{ name: topic, maxRecordBytes: 8 * 1024 * 1024 }]);
      const handled: string[] = [];
      let stuckOffset = '';
      // Every hand-over of 'stuck' is held until its own release; the first is let go (as a
      // success) only after the partition has been moved.
      const holds: Array<() => void> = [];
      const handle = async (r: InRecord) => {
        const v = r.value.toString();
        if (v === 'stuck') {
          stuckOffset = r.offset;
          await new Promise<void>((resolve) => holds.push(resolve));
        }
        handled.push(v);
      };
      const subA = await busA.consume({ group, topic, concurrency: 4, handle });
      await busA.publish(
        topic,
        ['a', 'stuck', 'b', 'c'].map((v) => ({ key: 'k', value: Buffer.from(v) })),
      );
      await waitFor('the others, on A', () => handled.length === 3 && holds.length === 1, 30_000);
      await waitFor('A commits up to the stuck record', async () => (await committed(group, topic)) === stuckOffset, 30_000, 500);
      // B joins: a new generation; whoever owns the partition now reads it again from the stuck record.
      const subB = await busB.consume({ group, topic, concurrency: 4, handle });
      await waitFor('the stuck record handed over again', () => holds.length === 2, 60_000);
      holds[0]!(); // the old generation's hand-over finishes late
      await waitFor('its late completion', () => handled.filter((v) => v === 'stuck').length === 1, 10_000);
      await new Promise((r) => setTimeout(r, 3000)); // three commit rounds
      assert.equal(await committed(group, topic), stuckOffset, 'nothing committed past the record the owner still holds');
      holds[1]!();
      await waitFor('the owner commits past it', async () => BigInt(await committed(group, topic)) > BigInt(stuckOffset), 30_000, 500);
      await Promise.all([subA.stop(), subB.stop()]);
      for (const v of ['a', 'b', 'c', 'stuck']) assert.ok(handled.includes(v), `${v} handled`);
    } finally {
      await Promise.all([busA.close(), busB.close()]);
    }
  });
});
