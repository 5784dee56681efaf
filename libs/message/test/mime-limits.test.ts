import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MimeLimitError, parseMime } from '../src/mime/parse.js';

/** A message whose attachment sits inside `depth` multiparts. */
function nested(depth: number): Buffer {
  let inner = 'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="x.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n';
  for (let i = 0; i < depth; i++) inner = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${inner}--b${i}--\r\n`;
  return Buffer.from(`From: a@x.test\r\nMIME-Version: 1.0\r\n${inner}`);
}

function withAttachments(n: number, octets: number): Buffer {
  const data = Buffer.alloc(octets, 0x41).toString('base64').replace(/.{76}/g, '$&\r\n');
  const parts = Array.from(
    { length: n },
    (_, i) => `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${data}\r\n`,
  );
  return Buffer.from(`From: a@x.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts.join('')}--b--\r\n`);
}

test('a part nested deeper than maxDepth fails the parse; at the limit it is read', async () => {
  const ok = await parseMime(nested(4), { maxDepth: 4, inspectBytes: 10 });
  assert.deepEqual(
    ok.parts.map((p) => [p.filename, p.size]),
    [['x.bin', 3]],
  );
  await assert.rejects(parseMime(nested(5), { maxDepth: 4 }), (e: unknown) => e instanceof MimeLimitError && e.limit === 'depth');
});

test('attachments decoding to more than maxDecodedBytes fail the parse', async () => {
  const ok = await parseMime(withAttachments(3, 1000), { maxDecodedBytes: 3000 });
  assert.deepEqual(
    ok.parts.map((p) => p.size),
    [1000, 1000, 1000],
  );
  await assert.rejects(parseMime(withAttachments(3, 1000), { maxDecodedBytes: 2999 }), (e: unknown) => e instanceof MimeLimitError && e.limit === 'decoded-bytes');
});

test('more parts than maxParts fail the parse (mailsplit), fewer are read', async () => {
  assert.equal((await parseMime(withAttachments(5, 10), { maxParts: 10 })).parts.length, 5);
  await assert.rejects(parseMime(withAttachments(20, 10), { maxParts: 10 }), /child nodes/);
});

test('attachments are kept up to inspectBytes, text up to maxTextChars', async () => {
  const p = await parseMime(withAttachments(1, 100), { inspectBytes: 10 });
  assert.deepEqual([p.parts[0]!.content.length, p.parts[0]!.truncated, p.parts[0]!.size], [10, true, 100]);
  const none = await parseMime(withAttachments(1, 100));
  assert.deepEqual([none.parts[0]!.content.length, none.parts[0]!.size], [0, 100]);
  const text = await parseMime(Buffer.from(`Subject: t\r\n\r\n${'x'.repeat(100)}\r\n`), { maxTextChars: 10 });
  assert.equal(text.text, 'x'.repeat(10));
});
