import { createRequire } from 'node:module';
import LinkifyIt from 'linkify-it';

// Every IANA TLD (linkify-it alone knows a few), so "www.brand.shop" or "offer.xyz/win" without a
// scheme are links too; plus the RFC 2606 names, which only tests and examples use.
const tlds = createRequire(import.meta.url)('tlds') as string[];
const linkify = new LinkifyIt().tlds([...tlds, 'example', 'test', 'invalid'], false);

/**
 * Punycode labels (xn--) kept as they are per run of host characters: the last ones, where the
 * registered domain and an IDN TLD are. linkify-it's label pattern matches an xn-- label in two
 * ways, so a host it fails to match is retried 2^n ways for n such labels ("xn--a." x 22 and a
 * "-" took 1.7 s; each one more doubles it). The earlier ones are rewritten before linkify-it
 * sees them (same length, still a label, so links and their offsets stay as they were); the
 * links are then cut from the original text.
 */
const MAX_PUNYCODE_LABELS = 4;
const DOT = 0x2e;

/** A character linkify-it may take into a host name: ASCII letter, digit, dash, or non-ASCII that is not punctuation, space or control. */
function isHostChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
  return c !== 0xff5c && !/[\p{P}\p{Z}\p{C}]/u.test(text[i]!);
}

/** The text with all but the last MAX_PUNYCODE_LABELS xn-- labels of each host-like run rewritten (one pass). */
function defusePunycodeRuns(text: string): string {
  const rewrite: number[] = [];
  let run: number[] = [];
  const endRun = () => {
    for (let k = 0; k < run.length - MAX_PUNYCODE_LABELS; k++) rewrite.push(run[k]!);
    run = [];
  };
  for (let i = 0; i < text.length; i++) {
    const dot = text.charCodeAt(i) === DOT;
    if (!dot && !isHostChar(text, i)) {
      endRun();
      continue;
    }
    const labelStart = !dot && (i === 0 || text.charCodeAt(i - 1) === DOT || !isHostChar(text, i - 1));
    if (labelStart && text.slice(i, i + 4).toLowerCase() === 'xn--') run.push(i);
  }
  endRun();
  if (rewrite.length === 0) return text;
  const parts: string[] = [];
  let from = 0;
  for (const at of rewrite) {
    parts.push(text.slice(from, at), 'xnzz');
    from = at + 4;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** URLs in plain text, with or without a scheme ("www.example.com", "example.com/x"). */
export function textLinks(text: string): string[] {
  const scanned = defusePunycodeRuns(text);
  return (linkify.match(scanned) ?? []).map((m) => {
    // linkify-it's url is the matched text with a scheme put before it; the text comes from the original.
    const raw = m.lastIndex - m.index;
    return m.url.slice(0, m.url.length - raw) + text.slice(m.index, m.lastIndex);
  });
}
