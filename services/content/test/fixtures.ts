import { crc32 } from 'node:zlib';
import CFB from 'cfb';
import type { MailRecord } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';

/** EICAR, put together at run time so no file in the repository is itself the test virus. */
export const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''), 'latin1');
export const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*', 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');

export interface FileSpec {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface MessageSpec {
  from?: string;
  replyTo?: string;
  to?: string;
  subject?: string;
  text?: string;
  html?: string;
  files?: FileSpec[];
  extraHeaders?: string[];
}

const wrap = (b64: string): string => b64.replace(/.{1,76}/g, '$&\r\n');

/** A real MIME message (multipart/mixed with base64 parts when there are files, else alternative), CRLF throughout. */
export function buildMessage(s: MessageSpec): Buffer {
  const head = [
    `From: ${s.from ?? 'Alice Sender <alice@sender.example>'}`,
    `To: ${s.to ?? 'user@example.test'}`,
    ...(s.replyTo ? [`Reply-To: ${s.replyTo}`] : []),
    `Subject: ${s.subject ?? 'Hello'}`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@sender.example>`,
    'MIME-Version: 1.0',
    ...(s.extraHeaders ?? []),
  ];
  const bodyParts: string[] = [];
  if (s.text !== undefined || !s.html) bodyParts.push(`Content-Type: text/plain; charset=utf-8\r\n\r\n${s.text ?? 'Hello there.'}\r\n`);
  if (s.html) bodyParts.push(`Content-Type: text/html; charset=utf-8\r\n\r\n${s.html}\r\n`);
  for (const f of s.files ?? []) {
    bodyParts.push(
      `Content-Type: ${f.contentType}; name="${f.filename}"\r\nContent-Disposition: attachment; filename="${f.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap(f.content.toString('base64'))}`,
    );
  }
  const boundary = 'b-portcullis-test';
  const body = bodyParts.map((p) => `--${boundary}\r\n${p}`).join('') + `--${boundary}--\r\n`;
  return Buffer.from(`${head.join('\r\n')}\r\nContent-Type: multipart/${s.files?.length ? 'mixed' : 'alternative'}; boundary="${boundary}"\r\n\r\n${body}`, 'utf8');
}

/**
 * A zip of stored (uncompressed) entries, written here for fixtures; `encrypted` sets the
 * general-purpose "encrypted" flag on every entry, which is what readers (ours, unzip, clamd)
 * go by: the entry content is then not real ZipCrypto output, but nothing reads that far.
 */
export function buildZip(entries: Array<{ name: string; content: Buffer }>, encrypted = false): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.content) >>> 0;
    const flags = encrypted ? 0x0001 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.content.length, 18);
    local.writeUInt32LE(e.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(e.content.length, 20);
    central.writeUInt32LE(e.content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.content);
    centrals.push(central, name);
    offset += 30 + name.length + e.content.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** An OLE2 (.doc) file with a Word VBA project, written with cfb. */
export function buildMacroDoc(): Buffer {
  const doc = CFB.utils.cfb_new();
  CFB.utils.cfb_add(doc, '/WordDocument', Buffer.alloc(4096, 1));
  CFB.utils.cfb_add(doc, '/Macros/VBA/_VBA_PROJECT', Buffer.from([0xcc, 0x61, 0xff, 0xff, 0x00]));
  CFB.utils.cfb_add(doc, '/Macros/VBA/dir', Buffer.alloc(64, 2));
  CFB.utils.cfb_add(doc, '/Macros/VBA/Module1', Buffer.from('Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\nEnd Sub\r\n'));
  return Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array);
}

/** An OLE2 (.doc) file without macros. */
export function buildPlainDoc(): Buffer {
  const doc = CFB.utils.cfb_new();
  CFB.utils.cfb_add(doc, '/WordDocument', Buffer.alloc(4096, 1));
  return Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array);
}

/** The start of a Windows PE executable (what file-type and clamd look at). */
export function buildExe(): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
}

export function record(raw: Buffer, envelope: NonNullable<Parameters<typeof sampleMeta>[0]>['envelope'] = {}): MailRecord {
  return { meta: sampleMeta({ size: raw.length, envelope }), raw };
}

export { contentConfig } from '../src/testing.js';
