import { randomBytes } from 'node:crypto';
import { headerLines, splitMessage } from '@portcullis/message';

/**
 * The message with a banner (e.g. "This message comes from outside the organisation") as its
 * first MIME part: the original body, with its Content-* header fields, becomes the second part
 * of a new multipart/mixed. This works for any structure (plain, HTML, multipart, encoded) without
 * touching the original content; the banner is base64 so the message stays 7-bit if it was. It
 * changes the body, so a DKIM signature by the sender no longer verifies after us.
 */
export function withBanner(raw: Buffer, banner: string): Buffer {
  const split = splitMessage(raw);
  const fields = headerLines(raw.subarray(0, split.headerEnd));
  const isContent = (f: string): boolean => /^content-/i.test(f);
  const inner = fields.filter(isContent);
  const outer = fields.filter((f) => !isContent(f));
  if (!inner.some((f) => /^content-type:/i.test(f))) inner.unshift('Content-Type: text/plain; charset=us-ascii\r\n');
  if (!outer.some((f) => /^mime-version:/i.test(f))) outer.push('MIME-Version: 1.0\r\n');
  const boundary = `portcullis-banner-${randomBytes(12).toString('hex')}`;
  const body = raw.subarray(split.bodyStart);
  const end = body.length === 0 || body.subarray(-2).toString('latin1') === '\r\n' ? '' : '\r\n';
  const text = Buffer.from(`${banner}\r\n`, 'utf8')
    .toString('base64')
    .replace(/.{1,76}/g, '$&\r\n');
  const head = `${outer.join('')}Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`;
  const first = `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${text}--${boundary}\r\n${inner.join('')}\r\n`;
  return Buffer.concat([Buffer.from(head + first, 'latin1'), body, Buffer.from(`${end}--${boundary}--\r\n`, 'latin1')]);
}
