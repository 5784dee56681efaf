import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FinishedPrefix } from '../src/finished-prefix.js';

describe('FinishedPrefix', () => {
  it('commits nothing before a record is seen', () => {
    assert.equal(new FinishedPrefix().commitOffset(), null);
  });

  it('stops at the lowest record still in flight, however many after it are finished', () => {
    const p = new FinishedPrefix();
    for (const o of ['10', '11', '12', '13']) p.dispatched(o);
    assert.equal(p.commitOffset(), '10');
    p.finished('10');
    assert.equal(p.commitOffset(), '11');
    p.finished('13');
    p.finished('12');
    assert.equal(p.commitOffset(), '11', 'the stuck record at 11 holds the commit');
    assert.equal(p.inFlight(), 1);
    p.finished('11');
    assert.equal(p.commitOffset(), '14');
    assert.equal(p.inFlight(), 0);
  });

  it('moves past the tail of a batch (a control record) only when nothing is in flight', () => {
    const p = new FinishedPrefix();
    p.dispatched('5');
    p.passed('7');
    assert.equal(p.commitOffset(), '5');
    p.finished('5');
    assert.equal(p.commitOffset(), '8');
  });

  it('keeps gaps in offsets (compaction) without waiting for them', () => {
    const p = new FinishedPrefix();
    p.dispatched('1');
    p.dispatched('4');
    p.finished('4');
    assert.equal(p.commitOffset(), '1');
    p.finished('1');
    assert.equal(p.commitOffset(), '5');
  });

  it('refuses an offset handed out of order', () => {
    const p = new FinishedPrefix();
    assert.ok(p.follows('0'));
    p.dispatched('9');
    assert.ok(p.follows('10') && !p.follows('3'));
    assert.throws(() => p.dispatched('3'), /out of order/);
  });

  it('stays correct over many records finished in a shuffled order', () => {
    const p = new FinishedPrefix();
    const n = 5000;
    for (let i = 0; i < n; i++) p.dispatched(String(i));
    const order = Array.from({ length: n }, (_, i) => i).sort(() => Math.random() - 0.5);
    const finished = new Set<number>();
    let low = 0;
    for (const i of order) {
      p.finished(String(i));
      finished.add(i);
      while (finished.has(low)) low++;
      if (i % 97 === 0 || finished.size === n) assert.equal(p.commitOffset(), String(low));
    }
    assert.equal(p.commitOffset(), String(n));
  });
});
