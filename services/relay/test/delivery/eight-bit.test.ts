import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { downgradeTo7bit, extensionNeeds } from '../../src/delivery/eight-bit.js';

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

test('what a message needs of the next hop', () => {
  assert.deepEqual(extensionNeeds('a@example.net', ['u@example.test'], crlf('Subject: x\n\nplain\n')), { utf8Address: false, eightBitHeaders: false, eightBitBody: false });
  assert.deepEqual(extensionNeeds('a@example.net', ['jöran@example.test'], crlf('Subject: café\n\ncafé\n')), { utf8Address: true, eightBitHeaders: true, eightBitBody: true });
});

test('an 8-bit single part becomes quoted-printable and reads the same', async () => {
  const raw = crlf('From: a@example.net\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncafé crème\nline two\n');
  const out = downgradeTo7bit(raw);
  assert.ok(out);
  assert.ok(![...out].some((c) => c > 0x7f), 'only 7-bit octets');
  assert.match(out.toString(), /Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9/);
  assert.equal((out.toString().match(/Content-Transfer-Encoding/g) ?? []).length, 1);
  assert.equal((await simpleParser(out)).text?.trim(), 'café crème\nline two');
});

test('an 8-bit part inside multipart is converted; the 7-bit parts are untouched', async () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary="b1"\n\npreamble\n--b1\nContent-Type: text/plain; charset=utf-8\n\nüber\n--b1\nContent-Type: text/plain\n\nascii only\n--b1--\n',
  );
  const out = downgradeTo7bit(raw);
  assert.ok(out);
  assert.ok(![...out].some((c) => c > 0x7f));
  assert.ok(out.toString().includes('--b1\r\nContent-Type: text/plain\r\n\r\nascii only\r\n--b1--'));
  const parsed = await simpleParser(out);
  assert.match(parsed.text ?? '', /über/);
});

test('what cannot be converted is refused (null): 8-bit headers, message/rfc822, binary', () => {
  assert.equal(downgradeTo7bit(crlf('Subject: café\n\nbody\n')), null);
  assert.equal(downgradeTo7bit(crlf('Content-Type: message/rfc822\n\nSubject: x\n\ncafé\n')), null);
  assert.equal(downgradeTo7bit(crlf('Content-Transfer-Encoding: binary\n\ncafé\n')), null);
  const seven = crlf('Subject: x\n\nplain\n');
  assert.equal(downgradeTo7bit(seven)?.equals(seven), true, 'a 7-bit message is left as it is');
});

test('the header/body split is libs/message split: no body, bare LF, a part without headers', async () => {
  // No body: all header; 8-bit in it is header, not body.
  assert.deepEqual(extensionNeeds('a@example.net', ['u@example.test'], Buffer.from('Subject: café\r\n')), { utf8Address: false, eightBitHeaders: true, eightBitBody: false });
  // Bare LF: the body is the body (a '\r\n\r\n' search took the whole message for the header).
  assert.deepEqual(extensionNeeds('a@example.net', ['u@example.test'], Buffer.from('Subject: x\n\ncafé\n')), { utf8Address: false, eightBitHeaders: false, eightBitBody: true });
  const lfSingle = downgradeTo7bit(Buffer.from('Subject: x\nContent-Type: text/plain; charset=utf-8\n\ncafé\n'));
  assert.ok(lfSingle);
  assert.ok(![...lfSingle].some((c) => c > 0x7f), 'only 7-bit octets');
  assert.equal((await simpleParser(lfSingle)).text?.trim(), 'café');
  // A multipart with bare LF is not split on CRLF boundaries: what would keep 8-bit octets is refused, never sent as is.
  assert.equal(downgradeTo7bit(Buffer.from('Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\ncafé\n--b--\n')), null);
  // A part with no header lines (its body starts at once with the empty line) is converted as text/plain.
  const noHead = downgradeTo7bit(crlf('Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nüber\n\nzwei\n--b--\n'));
  assert.ok(noHead);
  assert.ok(![...noHead].some((c) => c > 0x7f));
  assert.match((await simpleParser(noHead)).text ?? '', /über\s+zwei/);
  // A 7-bit message with no body is left as it is.
  const headOnly = Buffer.from('Subject: x\r\n');
  assert.equal(downgradeTo7bit(headOnly)?.equals(headOnly), true);
});
