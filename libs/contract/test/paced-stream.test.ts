import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pacedStream } from '../src/paced-stream.js';

test('pacedStream gives the octets unchanged, one chunk per turn of the event loop', async () => {
  const raw = Buffer.alloc(10 * 1000 + 7);
  for (let i = 0; i < raw.length; i++) raw[i] = i % 251;
  // A counter of event-loop turns: each turn's check phase bumps it once.
  let turn = 0;
  let reading = true;
  const spin = (): void => {
    turn++;
    if (reading) setImmediate(spin);
  };
  setImmediate(spin);
  const chunks: Buffer[] = [];
  const seenAt: number[] = [];
  for await (const c of pacedStream(raw, 1000)) {
    chunks.push(c as Buffer);
    seenAt.push(turn);
  }
  reading = false;
  assert.equal(chunks.length, 11);
  assert.ok(chunks.every((c) => c.length <= 1000));
  assert.ok(Buffer.concat(chunks).equals(raw));
  // Never two chunks in one turn of the event loop.
  for (let i = 1; i < seenAt.length; i++) assert.ok(seenAt[i]! > seenAt[i - 1]!, `chunks ${i - 1} and ${i} came in the same turn`);
});

test('pacedStream of an empty message ends at once', async () => {
  const chunks: unknown[] = [];
  for await (const c of pacedStream(Buffer.alloc(0))) chunks.push(c);
  assert.deepEqual(chunks, []);
});
