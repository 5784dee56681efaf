import { Readable } from 'node:stream';

/** Octets handed on per turn of the event loop: a byte-by-byte pass over them takes well under a millisecond. */
export const PACED_CHUNK_BYTES = 64 * 1024;

/**
 * A message's octets as a stream that gives one chunk per turn of the event loop (setImmediate
 * between chunks), for libraries that run a JavaScript loop over every octet of what they are
 * given: mailauth's DKIM parser and nodemailer's dot-stuffing. Given the whole buffer, they
 * hold the event loop that serves SMTP for the whole message (tens of ms for 3 MB; mailauth
 * writes its chunks back to back through the drain callbacks, never yielding); given this, one
 * chunk at a time. The chunks are views of `raw` (no copy).
 */
export function pacedStream(raw: Buffer, chunkBytes = PACED_CHUNK_BYTES): Readable {
  let pos = 0;
  let pending = false;
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        if (pos >= raw.length) {
          this.push(null);
          return;
        }
        const end = Math.min(pos + chunkBytes, raw.length);
        const chunk = raw.subarray(pos, end);
        pos = end;
        this.push(chunk);
      });
    },
  });
}

/**
 * Resolves on a later turn of the event loop, after its timers and its poll for I/O: for code
 * that makes two whole-message copies one after the other (a few ms each for a large message),
 * so that other sessions are served between them. Not setImmediate: queued from an I/O
 * callback, it runs in the same turn, before any timer or socket.
 */
export function laterTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
