import type { Readable } from 'node:stream';
import type { ByteBudget } from './byte-budget.js';

export type DataResult =
  | { ok: true; message: Buffer }
  | { ok: false; reason: 'too-big' | 'bare-line-ending' | 'stream-error' | 'memory-full'; detail?: string };

const CR = 0x0d;
const LF = 0x0a;

/** First offset of a CR not followed by LF, a LF not preceded by CR, or a NUL; -1 when clean. */
export function findBareLineEnding(buf: Buffer): number {
  const nul = buf.indexOf(0);
  let firstBad = nul;
  const note = (i: number) => {
    if (firstBad < 0 || i < firstBad) firstBad = i;
  };
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 || buf[i - 1] !== CR) {
      note(i);
      break;
    }
  }
  for (let i = buf.indexOf(CR); i >= 0; i = buf.indexOf(CR, i + 1)) {
    if (buf[i + 1] !== LF) {
      note(i);
      break;
    }
  }
  return firstBad;
}

/** Rewrites every bare CR and bare LF as CRLF. */
export function normalizeLineEndings(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === CR && buf[i + 1] !== LF) {
      parts.push(buf.subarray(start, i), Buffer.from('\r\n'));
      start = i + 1;
    } else if (b === LF && (i === 0 || buf[i - 1] !== CR)) {
      parts.push(buf.subarray(start, i), Buffer.from('\r\n'));
      start = i + 1;
    }
  }
  if (start === 0) return buf;
  parts.push(buf.subarray(start));
  return Buffer.concat(parts);
}

/**
 * data.collect: reads the DATA stream into memory, stopping at the size limit
 * (what is over the limit is read and thrown away, so the reply comes in turn).
 * The whole message is needed in memory anyway to write one Kafka record; the
 * edge bounds the bytes all sessions hold together with the budget. Whatever
 * was taken from the budget is in `held` on return: the caller gives it back
 * once it no longer holds the message.
 */
export async function collectMessage(
  stream: Readable & { sizeExceeded?: boolean },
  maxBytes: number,
  bareLineEndings: 'reject' | 'normalize',
  budget: ByteBudget,
  held: { bytes: number },
): Promise<DataResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let full = false;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) over = true;
      if (!over && !full && !budget.tryTake(buf.length)) full = true;
      if (!over && !full) {
        held.bytes += buf.length;
        chunks.push(buf);
      }
    }
  } catch (err) {
    return { ok: false, reason: 'stream-error', detail: (err as Error).message };
  }
  if (over || stream.sizeExceeded) return { ok: false, reason: 'too-big' };
  if (full) return { ok: false, reason: 'memory-full' };
  let message: Buffer = Buffer.concat(chunks, size);
  if (message.indexOf(0) >= 0) return { ok: false, reason: 'bare-line-ending', detail: 'NUL' };
  if (findBareLineEnding(message) >= 0) {
    if (bareLineEndings === 'reject') return { ok: false, reason: 'bare-line-ending' };
    message = normalizeLineEndings(message);
  }
  return { ok: true, message };
}
