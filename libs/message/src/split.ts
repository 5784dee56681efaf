/**
 * Where the header section of a message ends: THE rule, for every stage (RFC 5322 2.1).
 *
 * The header section ends at the first empty line: a line break followed at once by another.
 * A line break is CRLF or a bare LF (the edge turns bare LF into CRLF or refuses it, but a
 * message read back from a topic, a test or the quarantine may still have one, and mailparser
 * reads LF too): "\r\n\r\n", "\n\n", "\r\n\n" and "\n\r\n" all end it. A message that starts
 * with an empty line has an empty header section. A message with no empty line is all header
 * and has no body (as mailparser and Postfix read it).
 */

const LF = 0x0a;
const CR = 0x0d;

export interface MessageSplit {
  /** Octets of the header section, its last line break included (the empty line not). */
  headerEnd: number;
  /** Where the body starts: past the empty line (the message's length when there is none). */
  bodyStart: number;
  /** False when no empty line ends the header section (the message is all header). */
  ended: boolean;
}

/** Length of the line break at i (2 for CRLF, 1 for LF), 0 when there is none. */
function lineBreakAt(raw: Uint8Array, i: number): number {
  if (raw[i] === LF) return 1;
  return raw[i] === CR && raw[i + 1] === LF ? 2 : 0;
}

/** The header/body split of a raw message, in one pass over the header section (indexOf on LF). */
export function splitMessage(raw: Buffer): MessageSplit {
  const first = lineBreakAt(raw, 0);
  if (first > 0) return { headerEnd: 0, bodyStart: first, ended: true };
  for (let lf = raw.indexOf(LF); lf >= 0; lf = raw.indexOf(LF, lf + 1)) {
    const empty = lineBreakAt(raw, lf + 1);
    if (empty > 0) return { headerEnd: lf + 1, bodyStart: lf + 1 + empty, ended: true };
  }
  return { headerEnd: raw.length, bodyStart: raw.length, ended: false };
}

/** The header section (its last line break included), a view of raw, not a copy. */
export function headerSection(raw: Buffer): Buffer {
  return raw.subarray(0, splitMessage(raw).headerEnd);
}

/** The body (empty when the message has none), a view of raw, not a copy. */
export function messageBody(raw: Buffer): Buffer {
  return raw.subarray(splitMessage(raw).bodyStart);
}
