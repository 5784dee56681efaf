import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { BatchingProducer } from '../src/kafka-producer.js';

/**
 * A fake kafkajs producer: implements only sendBatch, records each call and
 * can be told to fail or to hold the request. Only for testing the batching.
 */
class FakeProducer {
  readonly batches: ProducerBatch[] = [];
  failWith: Error | null = null;
  hold: Promise<void> | null = null;
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.batches.push(batch);
    if (this.hold) await this.hold;
    if (this.failWith) throw this.failWith;
    return [];
  }
  asProducer(): Producer {
    return this as unknown as Producer;
  }
}

const msg = (text: string) => ({ key: text, value: Buffer.from(text) });
const opts = { lingerMs: 5, maxBatchBytes: 1_000_000, maxQueuedBytes: 10_000_000, timeoutMs: 1_000 };
const keysOf = (b: ProducerBatch) => (b.topicMessages ?? []).flatMap((t) => t.messages.map((m) => m.key));

test('concurrent sends are grouped into one sendBatch call, by topic, with acks=all', async () => {
  const fake = new FakeProducer();
  const p = new BatchingProducer(fake.asProducer(), opts);
  await Promise.all([p.send('t1', [msg('a')]), p.send('t2', [msg('b')]), p.send('t1', [msg('c'), msg('d')])]);
  assert.equal(fake.batches.length, 1);
  const batch = fake.batches[0]!;
  assert.equal(batch.acks, -1);
  assert.equal(batch.timeout, 1_000);
  assert.deepEqual(
    batch.topicMessages?.map((t) => [t.topic, t.messages.map((m) => m.key)]),
    [
      ['t1', ['a', 'c', 'd']],
      ['t2', ['b']],
    ],
  );
});

test('records sent while a request is in flight go out together in the next one', async () => {
  const fake = new FakeProducer();
  let release!: () => void;
  fake.hold = new Promise((r) => (release = r));
  const p = new BatchingProducer(fake.asProducer(), opts);
  const first = p.send('t', [msg('a')]);
  await delay(20);
  assert.equal(fake.batches.length, 1);
  const later = [p.send('t', [msg('b')]), p.send('t', [msg('c')])];
  await delay(20);
  assert.equal(fake.batches.length, 1, 'only one request in flight at a time');
  fake.hold = null;
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(fake.batches.map(keysOf), [['a'], ['b', 'c']]);
});

test('batches respect maxBatchBytes; a record larger than the bound goes alone', async () => {
  const fake = new FakeProducer();
  const p = new BatchingProducer(fake.asProducer(), { ...opts, maxBatchBytes: 10 });
  await Promise.all([p.send('t', [msg('aaaa')]), p.send('t', [msg('bbbb')]), p.send('t', [msg('cccc')]), p.send('t', [msg('x'.repeat(20))]), p.send('t', [msg('dd')])]);
  assert.deepEqual(fake.batches.map(keysOf), [['aaaa', 'bbbb'], ['cccc'], ['x'.repeat(20)], ['dd']]);
  for (const b of fake.batches.slice(0, 2)) {
    const bytes = (b.topicMessages ?? []).flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length, 0);
    assert.ok(bytes <= 10);
  }
});

test('a failing sendBatch rejects every sender in that batch, and the next batch still goes', async () => {
  const fake = new FakeProducer();
  fake.failWith = new Error('not enough replicas');
  const p = new BatchingProducer(fake.asProducer(), opts);
  const results = await Promise.allSettled([p.send('t', [msg('a')]), p.send('t', [msg('b'), msg('c')])]);
  assert.equal(fake.batches.length, 1);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.match(String((r as PromiseRejectedResult).reason), /not enough replicas/);
  }
  fake.failWith = null;
  await p.send('t', [msg('d')]);
  assert.equal(fake.batches.length, 2);
});

test('past maxQueuedBytes a send is refused at once', async () => {
  const fake = new FakeProducer();
  const p = new BatchingProducer(fake.asProducer(), { ...opts, maxQueuedBytes: 10 });
  const first = p.send('t', [msg('12345678')]);
  await assert.rejects(p.send('t', [msg('abcdefgh')]), /queue full/);
  await first;
  assert.deepEqual(fake.batches.map(keysOf), [['12345678']]);
  // Once the queue has drained there is room again.
  await p.send('t', [msg('abcdefgh')]);
  assert.equal(fake.batches.length, 2);
});

test('failQueued rejects what still waits', async () => {
  const fake = new FakeProducer();
  const p = new BatchingProducer(fake.asProducer(), { ...opts, lingerMs: 50 });
  const waiting = p.send('t', [msg('a')]);
  p.failQueued('shutting down');
  await assert.rejects(waiting, /shutting down/);
  await delay(60);
  assert.equal(fake.batches.length, 0);
});
