import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeForDisplay, jsonForDisplay } from '../src/display.js';

test('control, bidi and zero-width characters are written out visibly', () => {
  assert.equal(escapeForDisplay('a\x1b[31mb'), 'a\\x1b[31mb');
  assert.equal(escapeForDisplay('\u202Eexe.txt\u2066\u200b\ufeff'), '\\u202Eexe.txt\\u2066\\u200B\\uFEFF');
  assert.equal(escapeForDisplay('csi\x9b2J del\x7f'), 'csi\\x9b2J del\\x7f');
  assert.equal(escapeForDisplay('one\r\ntwo\nthree\tfour\rfive'), 'one\\x0d\\x0atwo\\x0athree\\x09four\\x0dfive');
  assert.equal(escapeForDisplay('plain ASCII, ünïcödé and 漢字 stay'), 'plain ASCII, ünïcödé and 漢字 stay');
});

test('with keepLineBreaks a body keeps LF, CRLF and tabs, but not a lone CR', () => {
  assert.equal(escapeForDisplay('one\r\ntwo\nthree\tfour\rfive\u2028', { keepLineBreaks: true }), 'one\r\ntwo\nthree\tfour\\x0dfive\\u2028');
});

test('JSON for a terminal stays valid JSON with the same value and no raw hidden character', () => {
  const value = { subject: '\u202Etxt.exe \x1b[31m\x9b', n: 1 };
  const text = jsonForDisplay(value);
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.deepEqual(JSON.parse(text), value);
});

test('linear on 2 MB of its worst input', () => {
  const started = performance.now();
  escapeForDisplay('\r'.repeat(1_000_000) + '\u202E'.repeat(1_000_000));
  assert.ok(performance.now() - started < 5000);
});
