import { test } from 'node:test';
import assert from 'node:assert/strict';
import { receivedHeader, rfc5322Date, type ReceivedInfo } from '../../src/data/received.js';

const ID = '01J0000000ABCDEFGHJKMNPQRS';
const info = (over: Partial<ReceivedInfo> = {}): ReceivedInfo => ({
  helo: 'client.example.net',
  clientIp: '192.0.2.7',
  by: 'mx.example.test',
  protocol: 'ESMTPS',
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  id: ID,
  recipients: ['user@example.test'],
  date: new Date('2030-01-02T03:04:05Z'),
  ...over,
});

const text = (i: ReceivedInfo) => receivedHeader(i).toString('utf8');

test('every line ends with CRLF, continuation lines are folded with a tab, and there is no bare LF', () => {
  const h = text(info());
  assert.ok(h.startsWith('Received: '));
  assert.ok(h.endsWith('\r\n'));
  assert.doesNotMatch(h, /[^\r]\n/);
  assert.doesNotMatch(h, /\r(?!\n)/);
  const lines = h.slice(0, -2).split('\r\n');
  assert.ok(lines.length > 1);
  for (const l of lines.slice(1)) assert.match(l, /^\t\S/);
});

test('contains the HELO, the client IP in brackets, the id, the protocol and the date', () => {
  const h = text(info({ clientHostname: 'host.example.net' }));
  assert.match(h, /^Received: from client\.example\.net \(host\.example\.net \[192\.0\.2\.7\]\)/);
  assert.ok(h.includes(`by mx.example.test (Portcullis) with ESMTPS id ${ID}`));
  assert.ok(h.includes('(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)'));
  assert.ok(h.includes('Wed, 02 Jan 2030 03:04:05 +0000'));
});

test('names the recipient only when there is exactly one', () => {
  assert.ok(text(info()).includes('for <user@example.test>;'));
  assert.ok(!text(info({ recipients: ['a@example.test', 'b@example.test'] })).includes('for <'));
  assert.ok(!text(info({ recipients: [] })).includes('for <'));
});

test('escapes control characters, spaces and comment breakers in the HELO', () => {
  const h = text(info({ helo: 'evil\r\nX-Injected: yes\0(x)\\%', tls: null }));
  assert.doesNotMatch(h, /\r\nX-Injected/);
  assert.doesNotMatch(h, /\0/);
  assert.ok(h.includes('from evil%0D%0AX-Injected:%20yes%00%28x%29%5C%25 ('), h);
  assert.doesNotMatch(h, /[^\r]\n/);
});

test('8-bit and bidi characters in the HELO, reverse name and SNI become %XX: the header stays printable ASCII', () => {
  const hostile = 'mx.\u202Eevil\u2066.test\u00ff\u200b\u0085';
  const h = text(info({ helo: hostile, clientHostname: hostile, tls: { version: 'TLSv1.3', cipher: 'X', sni: hostile } }));
  assert.match(h, /^[\x20-\x7e\r\n\t]*$/, 'printable ASCII, CRLF and tab only');
  assert.ok(h.includes('from mx.%E2%80%AEevil%E2%81%A6.test%C3%BF%E2%80%8B%C2%85 (mx.%E2%80%AEevil'), h);
  // A long HELO is cut at 255 octets, never inside an escape.
  const long = text(info({ helo: '\u202E'.repeat(200) }));
  const from = /^Received: from (\S+) /.exec(long)![1]!;
  assert.ok(from.length <= 255 && /^(%[0-9A-F]{2})+$/.test(from), from);
});

test('an empty HELO is written as unknown; without TLS there is no using clause', () => {
  const h = text(info({ helo: '', tls: null }));
  assert.match(h, /^Received: from unknown \(\[192\.0\.2\.7\]\)/);
  assert.ok(!h.includes('using'));
});

test('rfc5322Date uses a numeric zone', () => {
  assert.equal(rfc5322Date(new Date('2030-01-02T03:04:05Z')), 'Wed, 02 Jan 2030 03:04:05 +0000');
});
