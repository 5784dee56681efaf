import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerSection, messageBody, splitMessage } from '../src/split.js';
import { decodeHeaderValue, fieldValueOctets, fieldValues, headerFields, headerLines, unfold } from '../src/header-fields.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('the header section ends at the first empty line, CRLF or bare LF', () => {
  assert.deepEqual(splitMessage(b('A: 1\r\nB: 2\r\n\r\nbody\r\n')), { headerEnd: 12, bodyStart: 14, ended: true });
  assert.deepEqual(splitMessage(b('A: 1\nB: 2\n\nbody\n')), { headerEnd: 10, bodyStart: 11, ended: true });
  // Mixed line breaks end it too (the first empty line, whichever way it is written).
  assert.deepEqual(splitMessage(b('A: 1\r\n\nbody')), { headerEnd: 6, bodyStart: 7, ended: true });
  assert.deepEqual(splitMessage(b('A: 1\n\r\nbody')), { headerEnd: 5, bodyStart: 7, ended: true });
  // An LF-only empty line before a CRLF one: the earlier one wins.
  assert.deepEqual(splitMessage(b('A: 1\n\nB: 2\r\n\r\n')).headerEnd, 5);
  assert.equal(messageBody(b('A: 1\r\n\r\nbody\r\n')).toString(), 'body\r\n');
  assert.equal(headerSection(b('A: 1\r\n\r\nbody\r\n')).toString(), 'A: 1\r\n');
});

test('no empty line: all header, no body; an empty first line: no header', () => {
  assert.deepEqual(splitMessage(b('A: 1\r\nB: 2\r\n')), { headerEnd: 12, bodyStart: 12, ended: false });
  assert.deepEqual(splitMessage(b('A: 1')), { headerEnd: 4, bodyStart: 4, ended: false });
  assert.deepEqual(splitMessage(b('')), { headerEnd: 0, bodyStart: 0, ended: false });
  assert.deepEqual(splitMessage(b('\r\nbody')), { headerEnd: 0, bodyStart: 2, ended: true });
  assert.deepEqual(splitMessage(b('\nbody')), { headerEnd: 0, bodyStart: 1, ended: true });
  // A bare CR is no line break.
  assert.equal(splitMessage(b('A: 1\r\r\nB: 2\r\n\r\n')).headerEnd, 13);
});

test('fields keep their continuation lines byte for byte; values are unfolded and read as UTF-8', () => {
  const section = b('Subject: one\r\n two\r\nFrom : a@x.test\r\nX: \r\n\t\r\n');
  assert.deepEqual(headerFields(section).map(String), ['Subject: one\r\n two\r\n', 'From : a@x.test\r\n', 'X: \r\n\t\r\n']);
  assert.deepEqual(fieldValues(section, 'SUBJECT'), [' one two']);
  assert.deepEqual(fieldValues(section, 'from'), [' a@x.test']);
  assert.deepEqual(fieldValues(Buffer.from('Subject: Grüße\r\n', 'utf8'), 'subject'), [' Grüße']);
  assert.deepEqual(fieldValues(Buffer.from([...b('Subject: a'), 0xff, 0x0d, 0x0a]), 'subject'), ['\u0000']);
  // The same values as octets, for a reader that decodes them its own way: the 0xff kept.
  assert.deepEqual(fieldValueOctets(Buffer.from([...b('Subject: a'), 0xff, 0x0d, 0x0a]), 'subject'), [Buffer.from([...b(' a'), 0xff])]);
  assert.deepEqual(fieldValueOctets(section, 'subject').map(String), [' one two']);
  assert.equal(unfold('a\r\n b\n\tc'), 'a b\tc');
  assert.deepEqual(headerLines(b('A: 1\r\nB: 2')), ['A: 1\r\n', 'B: 2\r\n']);
});

test('encoded words are decoded with libmime (RFC 2047), adjacent words joined', () => {
  assert.equal(decodeHeaderValue('=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?utf-8?b?IGF1cyBCZXJsaW4=?='), 'Grüße aus Berlin');
  assert.equal(decodeHeaderValue('=?iso-8859-1?q?caf=E9?= ok'), 'café ok');
  assert.equal(decodeHeaderValue('plain text'), 'plain text');
});
