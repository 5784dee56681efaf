import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeView } from '../../src/quarantine/quarantine-view.js';

test('the view is escaped text: no markup, no script, no terminal escapes; attachments only named', async () => {
  const raw = Buffer.from(
    [
      'From: a@example.net',
      'Subject: =?utf-8?B?G1szMW1yZWQ=?=',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html',
      '',
      '<html><body><script>alert(1)</script><p>Hello <b>operator</b></p><img src="http://tracker.example/x.png"></body></html>',
      '--b',
      'Content-Type: application/octet-stream; name="evil.exe"',
      'Content-Transfer-Encoding: base64',
      '',
      'TVqQAAMAAAAEAAAA',
      '--b--',
      '',
    ].join('\r\n'),
  );
  const v = await safeView(raw);
  assert.ok(
    v.headers.some((h) => h.name === 'Subject' && h.value.includes('=?utf-8?B?')),
    'headers as written, not decoded into escapes',
  );
  assert.match(v.text, /Hello/);
  assert.doesNotMatch(v.text, /<script|<p>|<b>|alert\(1\)|tracker\.example/);
  assert.deepEqual(v.attachments, [{ filename: 'evil.exe', contentType: 'application/octet-stream', size: 12 }]);
  assert.equal(JSON.stringify(v).includes('\u001b'), false);
});

test('a message the parser refuses is shown raw, escaped, with the reason (not an error)', async () => {
  const pad = Array.from({ length: 1100 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(980)}`).join('\r\n');
  const raw = Buffer.from(`Subject: \u202Eexe.txt \x1b[2J\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n${pad}\r\n\r\nx\r\n--b--\r\n`);
  const v = await safeView(raw);
  assert.match(v.unparsed ?? '', /header size/i);
  assert.ok(v.text.startsWith('Subject: \\u202Eexe.txt \\x1b[2J\nContent-Type: multipart/mixed'), v.text.slice(0, 100));
  assert.equal(v.truncated, true);
  assert.deepEqual(v.headers, []);
});

test('parsed headers and text are escaped: one line per header value, the body keeps its lines', async () => {
  const v = await safeView(Buffer.from('Subject: =?utf-8?B?4oCuZXhlLnR4dA==?= \u202Eraw\r\n\r\nline one\x1b[31m\r\nline two\r\n'));
  const subject = v.headers.find((h) => h.name === 'Subject')!.value;
  assert.ok(subject.includes('\\u202Eraw'), subject);
  assert.match(v.text, /^line one\\x1b\[31m\nline two/);
});

test('header names as the message spells them, folded values on one line, hostile characters still escaped', async () => {
  const raw = Buffer.from(
    'Received: from a.example (a.example [192.0.2.1])\r\n\tby mx.example; Thu, 3 Dec 2026 10:00:00 +0000\r\nX-Mixed-Case: v\u202Eexe\x1b[31m\r\nSubject: first\r\n second\rbare\r\n\r\nbody\r\n',
  );
  const v = await safeView(raw);
  assert.deepEqual(
    v.headers.map((h) => h.name),
    ['Received', 'X-Mixed-Case', 'Subject'],
  );
  assert.equal(v.headers[0]!.value, 'from a.example (a.example [192.0.2.1]) by mx.example; Thu, 3 Dec 2026 10:00:00 +0000');
  assert.equal(v.headers[1]!.value, 'v\\u202Eexe\\x1b[31m');
  assert.equal(v.headers[2]!.value, 'first second\\x0dbare', 'a fold is removed, a bare CR is shown escaped');
  assert.ok(
    v.headers.every((h) => !/\\x0d\\x0a/.test(h.value)),
    'no escaped CRLF left from folding',
  );
});
