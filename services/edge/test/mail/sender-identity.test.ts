/**
 * The submission rules on sender identity (checkSender, checkFromHeader). The parsing they rely on
 * (parseAddress, parseMailboxList, readFromHeader) is libs/message's, tested in
 * libs/message/test/address-parser.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFromHeader, checkSender, normalizeAllowedEntry } from '../../src/mail/sender-identity.js';

const alice = ['alice@example.test', '@lists.example.test'];

test('an owned address is allowed; domain and ASCII local part case-insensitive', () => {
  assert.equal(checkSender('alice', 'alice@example.test', alice), true);
  assert.equal(checkSender('alice', 'Alice@EXAMPLE.Test', alice), true);
  assert.equal(checkSender('alice', '<alice@example.test>', alice), true);
  assert.equal(checkSender('alice', 'anyone@lists.example.test', alice), true);
  assert.equal(checkSender('alice', 'Anyone@Lists.Example.Test', alice), true);
  assert.equal(checkSender('alice', 'alice@example.test', ['ALICE@Example.Test']), true);
});

test('addresses not owned are refused', () => {
  assert.equal(checkSender('alice', 'bob@example.test', alice), false);
  assert.equal(checkSender('alice', 'alice@other.test', alice), false);
  assert.equal(checkSender('alice', 'alice+tag@example.test', alice), false); // sub-addresses are not implied
  assert.equal(checkSender('alice', 'x@sub.lists.example.test', alice), false); // @domain is that domain only
  assert.equal(checkSender('alice', 'x@lists.example.test.evil', alice), false);
  assert.equal(checkSender('alice', 'alice@example.test', []), false);
  assert.equal(checkSender('', 'alice@example.test', alice), false); // not authenticated
});

test('the null sender is not allowed for submission', () => {
  assert.equal(checkSender('alice', '', alice), false);
  assert.equal(checkSender('alice', '<>', alice), false);
  assert.equal(checkSender('alice', '', ['@example.test']), false);
});

test('routing tricks and quoting are refused even inside an owned domain', () => {
  const owner = ['@example.test'];
  for (const a of [
    'alice%other.test@example.test',
    'other.test!alice@example.test',
    'alice@other.test@example.test',
    '@example.test:alice@other.test',
    '"alice@other.test"@example.test',
    '"alice"@example.test',
    'ali\\ce@example.test',
    'ali ce@example.test',
    'alice@[127.0.0.1]',
    'alice@example.test.',
    '.alice@example.test',
    'alice.@example.test',
    'al..ice@example.test',
    'alice\r\n@example.test',
    'alice\u200b@example.test',
    'alice@',
    '@example.test',
    'alice',
  ]) {
    assert.equal(checkSender('alice', a, owner), false, a);
  }
  assert.equal(checkSender('alice', 'alice.smith+tag@example.test', owner), true);
});

test('non-ASCII: domains match through IDNA, local parts exactly (no Unicode case folding)', () => {
  assert.equal(checkSender('u', 'user@bücher.example', ['@xn--bcher-kva.example']), true);
  assert.equal(checkSender('u', 'user@xn--bcher-kva.example', ['@Bücher.example']), true);
  assert.equal(checkSender('u', 'jürgen@example.test', ['jürgen@example.test']), true);
  assert.equal(checkSender('u', 'JÜRGEN@example.test', ['jürgen@example.test']), false);
  // KELVIN SIGN lower-cases to "k" with toLowerCase(); it must not match kate@
  assert.equal(checkSender('u', '\u212Aate@example.test', ['kate@example.test']), false);
});

test('malformed allowed entries never match anything', () => {
  assert.equal(normalizeAllowedEntry('@'), undefined);
  assert.equal(normalizeAllowedEntry('@[127.0.0.1]'), undefined);
  assert.equal(normalizeAllowedEntry('a%b@example.test'), undefined);
  assert.equal(normalizeAllowedEntry(' Alice@Example.TEST '), 'alice@example.test');
  assert.equal(normalizeAllowedEntry('@Example.TEST'), '@example.test');
  assert.equal(checkSender('alice', 'alice@example.test', ['@', '*', 'alice']), false);
});

const hdr = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

test('a quoted local part, which the From parser returns as written, is never an owned sender', () => {
  assert.equal(checkSender('alice', '"a@b"@example.test', ['@example.test']), false);
  assert.deepEqual(checkFromHeader('alice', hdr('From: <"a@b"@example.test>\n'), ['@example.test']), { ok: false, reason: 'not-owned', address: '"a@b"@example.test' });
});

test('checkFromHeader: exactly one From field, every address owned', () => {
  assert.deepEqual(checkFromHeader('alice', hdr('From: Alice <Alice@Example.test>\n'), alice), { ok: true, addresses: ['Alice@Example.test'] });
  assert.deepEqual(checkFromHeader('alice', hdr('From: alice@example.test, list@lists.example.test\n'), alice), {
    ok: true,
    addresses: ['alice@example.test', 'list@lists.example.test'],
  });
  assert.deepEqual(checkFromHeader('alice', hdr('Subject: x\n'), alice), { ok: false, reason: 'missing' });
  assert.deepEqual(checkFromHeader('alice', hdr('From: alice@example.test\nFrom: alice@example.test\n'), alice), { ok: false, reason: 'several-fields' });
  assert.deepEqual(checkFromHeader('alice', hdr('From: alice@example.test <bob@example.test>\n'), alice), { ok: false, reason: 'malformed' });
  assert.deepEqual(checkFromHeader('alice', hdr('From: "Alice" <bob@example.test>\n'), alice), { ok: false, reason: 'not-owned', address: 'bob@example.test' });
  assert.deepEqual(checkFromHeader('alice', hdr('From: alice@example.test, mallory@evil.test\n'), alice), { ok: false, reason: 'not-owned', address: 'mallory@evil.test' });
  // obsolete WSP before the colon still counts as From
  assert.deepEqual(checkFromHeader('alice', hdr('From : alice@example.test\nFrom: alice@example.test\n'), alice), { ok: false, reason: 'several-fields' });
  // the body is not read: a From line after the empty line is no second field
  assert.deepEqual(checkFromHeader('alice', hdr('From: alice@example.test\n\nFrom: mallory@evil.test\n'), alice), { ok: true, addresses: ['alice@example.test'] });
});
