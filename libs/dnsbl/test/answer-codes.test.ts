import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretAnswers, type ListPolicy } from '../src/answer-codes.js';

const plain: ListPolicy = { zone: 'bl.example', weight: 4, codes: [], bits: [], errorCodes: ['127.255.255.0/24'] };
const zen: ListPolicy = {
  ...plain,
  zone: 'zen.example',
  weight: 10,
  codes: [
    { answer: '127.0.0.2', meaning: 'SBL' },
    { answer: '127.0.0.4/30', meaning: 'XBL' },
    { answer: '127.0.0.10/31', weight: 2, meaning: 'PBL' },
  ],
};
const uribl: ListPolicy = {
  ...plain,
  zone: 'multi.uribl.example',
  codes: [],
  bits: [
    { bit: 2, meaning: 'black', weight: 6 },
    { bit: 4, meaning: 'grey', weight: 1 },
  ],
};

test('no answer: not listed', () => {
  assert.deepEqual(interpretAnswers(zen, []), { status: 'not-listed' });
});

test('codes name what the listing means; the heaviest weight counts once', () => {
  const v = interpretAnswers(zen, ['127.0.0.2', '127.0.0.11']);
  assert.equal(v.status, 'listed');
  assert.ok(v.status === 'listed');
  assert.equal(v.score, 10);
  assert.deepEqual(v.meanings, ['SBL', 'PBL']);
  const pbl = interpretAnswers(zen, ['127.0.0.10']);
  assert.ok(pbl.status === 'listed' && pbl.score === 2);
});

test('Spamhaus error answers 127.255.255.x are unknown, never listed', () => {
  for (const a of ['127.255.255.252', '127.255.255.254', '127.255.255.255']) {
    assert.equal(interpretAnswers(zen, [a]).status, 'unknown');
    assert.equal(interpretAnswers(plain, [a]).status, 'unknown');
  }
});

test('127.0.0.1 and answers outside 127/8 are never a listing (RFC 5782)', () => {
  assert.equal(interpretAnswers(plain, ['127.0.0.1']).status, 'unknown');
  assert.equal(interpretAnswers(plain, ['192.0.2.1']).status, 'unknown');
  assert.equal(interpretAnswers(uribl, ['127.0.0.1']).status, 'unknown');
});

test('an answer outside the configured codes is unknown', () => {
  assert.equal(interpretAnswers(zen, ['127.0.0.99']).status, 'unknown');
});

test('without codes any 127/8 answer but the error ones is a listing at the list weight', () => {
  const v = interpretAnswers(plain, ['127.0.0.2']);
  assert.ok(v.status === 'listed' && v.score === 4);
});

test('bitmask lists: each set bit is a sub-list', () => {
  const v = interpretAnswers(uribl, ['127.0.0.6']);
  assert.ok(v.status === 'listed');
  assert.equal(v.score, 6);
  assert.deepEqual(v.meanings, ['black', 'grey']);
  assert.ok(interpretAnswers(uribl, ['127.0.0.4']).status === 'listed');
  assert.equal(interpretAnswers(uribl, ['127.0.0.8']).status, 'unknown');
});

test('a negative weight (an allow list) is kept negative', () => {
  const dnswl: ListPolicy = { ...plain, zone: 'list.dnswl.example', weight: -5, codes: [{ answer: '127.0.0.0/16', meaning: 'dnswl' }] };
  const v = interpretAnswers(dnswl, ['127.0.10.2']);
  assert.ok(v.status === 'listed' && v.score === -5);
});
