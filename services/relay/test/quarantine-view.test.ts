import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeView } from '../src/quarantine-view.js';

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
  assert.ok(v.headers.some((h) => h.name === 'subject' && h.value.includes('=?utf-8?B?')), 'headers as written, not decoded into escapes');
  assert.match(v.text, /Hello/);
  assert.doesNotMatch(v.text, /<script|<p>|<b>|alert\(1\)|tracker\.example/);
  assert.deepEqual(v.attachments, [{ filename: 'evil.exe', contentType: 'application/octet-stream', size: 12 }]);
  assert.equal(JSON.stringify(v).includes('\u001b'), false);
});
