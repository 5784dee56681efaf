import type { Readable } from 'node:stream';
import { data } from '@portcullis/smtp-replies';
import type { LimitVerdict } from '../session/limit-refusals.js';

/**
 * data.headers: limits on the shape of the message, checked while DATA streams in.
 *
 * - The header section (RFC 5322 2.1: the octets before the first empty line; the whole
 *   message when there is none) may be at most `maxHeaderBytes`. Over it: 552 5.3.4. RFC 5322
 *   sets no limit here, so this is a size limit of ours, not a format error: RFC 3463 X.3.4
 *   ("message too big for system") covers per-message size limits set "for physical or
 *   policy reasons", and 552 is RFC 5321's reply for exceeded storage at end of DATA.
 * - Every line may be at most `maxLineLength` octets without its line ending (RFC 5322 2.1.1:
 *   998, a MUST; RFC 5321 4.5.3.1.6: 1000 with CRLF). Over it: 550 5.6.0, the same reply the
 *   edge gives for the other line-format violation (bare CR/LF): the content breaks the format,
 *   and X.6.0 is RFC 3463's code for a problem with the content itself. A permanent code,
 *   since sending the same message again will fail the same way.
 *
 * A line ends at a CR, a LF or a CRLF, the same way the edge's normaliser
 * (data.ts, normalizeLineEndings) reads them, so what this scanner calls a line is what a
 * normalised message will contain; with bareLineEndings: reject such messages are refused anyway.
 *
 * The scanner is incremental over the chunks of the DATA stream and fast: in the header it
 * walks lines with indexOf (the header is bounded by maxHeaderBytes, the scan stops there); in
 * the body it does not visit every line but jumps, with one lastIndexOf per window of
 * maxLineLength octets, to the last line break in the window: a window that holds a break
 * proves every line inside it short enough. 25 MiB of base64 lines costs about 3 ms.
 *
 * Why not libs/message's splitMessage: that reads a whole message in one buffer, and this must
 * refuse while DATA streams in, before the message is held, with the header's end found across
 * chunk boundaries; it also ends lines at a bare CR, as the normaliser does, where
 * splitMessage ends the header only at CRLF or LF. Both agree on where a CRLF message's
 * header ends.
 */
export interface HeaderLimitOptions {
  /** Largest header section in octets (the empty line after it not counted). */
  maxHeaderBytes: number;
  /** Longest line in octets, line ending not counted: 998 per RFC 5322 2.1.1. */
  maxLineLength: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimitOptions = { maxHeaderBytes: 256 * 1024, maxLineLength: 998 };

const CR = 0x0d;
const LF = 0x0a;
const OK: LimitVerdict = { ok: true };

export function headerTooBig(limit: number): LimitVerdict {
  return { ok: false, refusal: { ...data.headerTooBig.refuse(limit), reason: 'header-size' } };
}

export function lineTooLong(limit: number): LimitVerdict {
  return { ok: false, refusal: { ...data.lineTooLong.refuse(limit), reason: 'line-length' } };
}

/**
 * Last index of `byte` in buf[i..w], or -1. When buf[i-1] is that byte (or i is 0), a plain
 * lastIndexOf from w stops at i-1 at the latest, so it scans at most the window; otherwise the
 * window is cut out first, so that a byte that is rare in this message never makes us scan back
 * over the whole chunk.
 */
function lastIn(buf: Buffer, byte: number, i: number, w: number): number {
  if (i === 0 || buf[i - 1] === byte) return buf.lastIndexOf(byte, w);
  const q = buf.subarray(i, w + 1).lastIndexOf(byte);
  return q < 0 ? -1 : q + i;
}

export class HeaderLimitScanner {
  private inHeader = true;
  /** Octets of the current line so far, line ending not counted. */
  private run = 0;
  /** The previous chunk ended with a CR that ended a header line: a LF next belongs to it. */
  private crPending = false;
  /** Octets of the message before the current chunk. */
  private offset = 0;
  private result: LimitVerdict = OK;
  private header: number | null = null;

  constructor(private readonly options: HeaderLimitOptions = DEFAULT_HEADER_LIMITS) {
    if (!(options.maxHeaderBytes >= 0) || !(options.maxLineLength >= 1)) throw new Error('header limits must be positive');
  }

  /** The verdict so far; the first violation sticks and the rest of the message is not scanned. */
  get verdict(): LimitVerdict {
    return this.result;
  }

  /** Size of the header section, once its end was seen (null before, or after a violation in it). */
  get headerBytes(): number | null {
    return this.header;
  }

  push(chunk: Buffer): LimitVerdict {
    if (!this.result.ok || chunk.length === 0) return this.result;
    let i = 0;
    if (this.inHeader) i = this.scanHeader(chunk);
    if (!this.inHeader && this.result.ok && i < chunk.length) this.scanBody(chunk, i);
    this.offset += chunk.length;
    return this.result;
  }

  /** The message is complete; a message without an empty line is all header. */
  end(): LimitVerdict {
    return this.result;
  }

  /** Returns where the body starts in buf (buf.length while the header goes on). */
  private scanHeader(buf: Buffer): number {
    const { maxHeaderBytes, maxLineLength } = this.options;
    const len = buf.length;
    let i = 0;
    let run = this.run;
    if (this.crPending) {
      this.crPending = false;
      if (buf[0] === LF) i = 1;
    }
    let nextLf = buf.indexOf(LF, i);
    let nextCr = buf.indexOf(CR, i);
    while (i < len) {
      if (nextLf >= 0 && nextLf < i) nextLf = buf.indexOf(LF, i);
      if (nextCr >= 0 && nextCr < i) nextCr = buf.indexOf(CR, i);
      const j = nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr);
      const end = j < 0 ? len : j;
      if (run + (end - i) > maxLineLength) {
        // The first octet over the line limit, and which limit it breaks first.
        const at = this.offset + i + (maxLineLength - run);
        this.result = at >= maxHeaderBytes ? headerTooBig(maxHeaderBytes) : lineTooLong(maxLineLength);
        return len;
      }
      if (j < 0) {
        run += len - i;
        i = len;
        break;
      }
      if (run === 0 && j === i) {
        // An empty line: the header section ends before it.
        const size = this.offset + j;
        if (size > maxHeaderBytes) {
          this.result = headerTooBig(maxHeaderBytes);
          return len;
        }
        this.header = size;
        this.inHeader = false;
        this.run = 0;
        return buf[j] === CR && buf[j + 1] === LF ? j + 2 : j + 1;
      }
      run = 0;
      if (buf[j] === CR) {
        if (j + 1 === len) {
          this.crPending = true;
          i = len;
          break;
        }
        i = buf[j + 1] === LF ? j + 2 : j + 1;
      } else {
        i = j + 1;
      }
    }
    this.run = run;
    // No empty line in this chunk, so all of it is header.
    if (this.offset + len > maxHeaderBytes) this.result = headerTooBig(maxHeaderBytes);
    return len;
  }

  /** In the body only runs of octets without CR or LF matter: none may exceed the line limit. */
  private scanBody(buf: Buffer, start: number): void {
    const max = this.options.maxLineLength;
    const len = buf.length;
    let i = start;
    let run = this.run;
    while (i < len) {
      const w = i + max - run; // the last index where the current line may end
      if (w >= len) {
        const tail = buf.subarray(i); // at most max octets
        const q = Math.max(tail.lastIndexOf(LF), tail.lastIndexOf(CR));
        run = q < 0 ? run + tail.length : tail.length - 1 - q;
        break;
      }
      let q: number;
      if (i > 0 && buf[i - 1] === CR) {
        // Lines ended by a bare CR: look for CR first (bounded), LF only when there is none.
        q = lastIn(buf, CR, i, w);
        if (q < i) q = lastIn(buf, LF, i, w);
      } else {
        // A LF one past the window still ends an allowed line when the CR before it is at w.
        q = lastIn(buf, LF, i, w + 1);
        if (q > w && buf[w] !== CR) q = lastIn(buf, LF, i, w);
        if (q < i) q = lastIn(buf, CR, i, w);
      }
      if (q < i) {
        this.result = lineTooLong(max);
        return;
      }
      i = q + 1;
      run = 0;
    }
    this.run = run;
  }
}

/**
 * Checks a DATA stream as it is read by someone else (e.g. collectMessage). With both a
 * 'data' listener and the async iterator's 'readable' listener on the stream, Node lets
 * 'readable' drive the flow and emits 'data' for every chunk read() returns (documented in
 * stream.Readable, event 'readable'), so the scanner sees every chunk once, in order, and
 * nothing is read that the reader did not ask for. Attach it before the reader starts.
 */
export function watchHeaderLimits(stream: Readable, options: HeaderLimitOptions = DEFAULT_HEADER_LIMITS): HeaderLimitScanner {
  const scanner = new HeaderLimitScanner(options);
  // After a violation push() returns at once; the listener stays so the flow is not disturbed.
  stream.on('data', (chunk: Buffer) => scanner.push(chunk));
  return scanner;
}
