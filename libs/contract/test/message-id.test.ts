import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newMessageId } from '../src/message-id.js';
import { MessageId } from '../src/record.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

test('a message id is 26 characters of Crockford base32 and passes the schema', () => {
  for (let i = 0; i < 100; i++) {
    const id = newMessageId();
    assert.match(id, CROCKFORD);
    assert.equal(MessageId.safeParse(id).success, true);
  }
});

test('the first 10 characters encode the time', () => {
  assert.equal(newMessageId(0).slice(0, 10), '0000000000');
  assert.equal(newMessageId(31).slice(0, 10), '000000000Z');
  assert.equal(newMessageId(32).slice(0, 10), '0000000010');
  assert.equal(newMessageId(2 ** 48 - 1).slice(0, 10), '7ZZZZZZZZZ');
});

test('ids sort by time', () => {
  const times = [0, 1, 31, 32, 1_000, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 2 ** 48 - 1];
  const ids = times.map((t) => newMessageId(t));
  assert.deepEqual([...ids].sort(), ids);
});

test('10k ids are unique, also within one millisecond', () => {
  const now = Date.now();
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) ids.add(newMessageId(now));
  assert.equal(ids.size, 10_000);
  const other = new Set<string>();
  for (let i = 0; i < 10_000; i++) other.add(newMessageId());
  assert.equal(other.size, 10_000);
});
