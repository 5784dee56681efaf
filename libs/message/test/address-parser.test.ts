/** The strict address parser, with the tests of its parsing part from services/edge/test/sender-identity.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractFromAddresses, parseAddress, parseDomain, parseMailboxList, readFromHeader } from '../src/address-parser.js';

const hdr = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

test('From addresses are read from the header block, unfolded and case-insensitive', () => {
  assert.deepEqual(extractFromAddresses(hdr('Subject: hi\nFrom: Alice <alice@example.test>\nTo: bob@other.test\n\nFrom: body@evil.test\n')), ['alice@example.test']);
  assert.deepEqual(extractFromAddresses(hdr('FROM:alice@example.test\n')), ['alice@example.test']);
  assert.deepEqual(extractFromAddresses(hdr('From:\n "Smith, Alice"\n  <alice@example.test>\n')), ['alice@example.test']);
  assert.deepEqual(extractFromAddresses(hdr('From: =?utf-8?q?Al=C3=AFce?= <alice@example.test> (home)\n')), ['alice@example.test']);
  assert.deepEqual(extractFromAddresses(hdr('From: John Q. Public <jqp@example.test>, bob@example.test\n')), ['jqp@example.test', 'bob@example.test']);
  assert.deepEqual(extractFromAddresses(hdr('From: Jürgen <jürgen@bücher.example>\n')), ['jürgen@bücher.example']);
  assert.deepEqual(extractFromAddresses(hdr('Subject: no from\n')), []);
  // Resent-From and X-From are not From
  assert.deepEqual(extractFromAddresses(hdr('Resent-From: a@x.test\nX-From: b@x.test\n')), []);
  // LF-only line endings are read too
  assert.deepEqual(extractFromAddresses(Buffer.from('From: alice@example.test\nTo: x@y.test\n')), ['alice@example.test']);
});

test('ambiguous or malformed From values give an entry that never passes', () => {
  for (const v of [
    'alice@example.test <mallory@evil.test>', // unquoted @ in the display name
    '<alice@example.test> mallory@evil.test', // text after >
    'a@x.test <b@y.test> <c@z.test>',
    'Alice <alice@example.test',
    'Alice <@relay.test:alice@example.test>', // obsolete route
    'group: alice@example.test;', // groups
    'undisclosed',
    'alice@example.test,', // trailing comma
    'alice@example.test,,bob@example.test',
    'alice @example.test',
    '<>',
    '',
  ]) {
    assert.equal(parseMailboxList(v), undefined, v);
    assert.deepEqual(extractFromAddresses(hdr(`From: ${v}\n`)), [''], v);
  }
  // Invalid UTF-8 in the value
  assert.deepEqual(extractFromAddresses(Buffer.concat([Buffer.from('From: a'), Buffer.from([0xff]), Buffer.from('@example.test\r\n')])), ['']);
  // A quoted display name may contain anything; the address is what is checked.
  assert.deepEqual(parseMailboxList('"alice@example.test" <mallory@evil.test>'), ['mallory@evil.test']);
  // A quoted local part is returned as written (and parseAddress, which senders go through, refuses it).
  assert.deepEqual(parseMailboxList('<"a@b"@example.test>'), ['"a@b"@example.test']);
  assert.equal(parseAddress('"a@b"@example.test'), undefined);
});

test('parseAddress: a plain dot-atom address, the domain in lower-case A-labels', () => {
  assert.deepEqual(parseAddress('Alice@Example.TEST'), { local: 'Alice', domain: 'example.test' });
  assert.deepEqual(parseAddress('jürgen@bücher.example'), { local: 'jürgen', domain: 'xn--bcher-kva.example' });
  for (const bad of ['', 'a', '@x.test', 'a@', 'a@b@c.test', 'a%b@x.test', 'a!b@x.test', '.a@x.test', 'a..b@x.test', 'a@[127.0.0.1]', 'a@x.test.', 'a@1.2.3.4', 'a b@x.test']) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
  assert.equal(parseDomain('Example.TEST'), 'example.test');
  assert.equal(parseDomain('x..test'), undefined);
});

test('readFromHeader: counts From fields and says when one is malformed; the body is not read', () => {
  assert.deepEqual(readFromHeader(hdr('From: a@x.test\nFrom: b@y.test\n\nFrom: c@z.test\n')), { fields: 2, addresses: ['a@x.test', 'b@y.test'], malformed: false });
  assert.deepEqual(readFromHeader(hdr('From: a@x.test <b@y.test>\n')), { fields: 1, addresses: [''], malformed: true });
  assert.deepEqual(readFromHeader(hdr('\nFrom: a@x.test\n')), { fields: 0, addresses: [], malformed: false });
  assert.equal(readFromHeader(hdr('From : alice@example.test\n')).fields, 1); // obsolete WSP before the colon still counts as From
});
