import { getDomain } from 'tldts';
import { isShortener, unwrapRedirect } from './redirect-wrappers.js';

/** What one link in a message is, once decoded and unwrapped. */
export type LinkTarget = { kind: 'domain'; host: string; domain: string; shortener: boolean } | { kind: 'ip'; host: string };

/** Unwrapping depth: a wrapper inside a wrapper inside a wrapper is as far as we go. */
const MAX_UNWRAP = 4;

/** What wraps a link in text: quotes, angle brackets, parentheses. */
const OPENERS = new Set(['"', "'", '<', '(']);
const CLOSERS = new Set(['>', '"', "'", ')']);

/**
 * The link without the quotes and brackets around it. Scanned by index, not with a regular
 * expression: /[>"')]+$/ is retried from every position of a run of closing characters, so a
 * long run costs quadratic time (20k ")" in an href took 0.36 s, 80k took 6.3 s).
 */
function stripWrapping(link: string): string {
  let start = 0;
  let end = link.length;
  while (start < end && OPENERS.has(link[start]!)) start++;
  while (end > start && CLOSERS.has(link[end - 1]!)) end--;
  return link.slice(start, end);
}

/**
 * Parses a link as a browser would (WHATWG URL): the host is percent-decoded, IDNs become
 * punycode (the form lists use), and IPv4 in any spelling (decimal 2130706433, hex 0x7f.1,
 * octal) becomes the dotted quad, so obfuscation cannot hide the real target.
 */
function parse(link: string): URL | null {
  let s = stripWrapping(link.trim());
  // A whole link percent-encoded (http%3A%2F%2F...): browsers decode it when followed through a redirect.
  if (/^https?%3a/i.test(s)) {
    try {
      s = decodeURIComponent(s);
    } catch {
      return null;
    }
  }
  if (/^mailto:/i.test(s)) s = `http://${s.slice(s.indexOf('@') + 1)}`;
  else if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) s = s.startsWith('//') ? `http:${s}` : `http://${s}`;
  try {
    const url = new URL(s);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function targetOf(url: URL): LinkTarget | null {
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[')) return { kind: 'ip', host };
  const domain = getDomain(host);
  return domain ? { kind: 'domain', host, domain, shortener: isShortener(host) } : null;
}

/**
 * Every target a link leads to: the link itself, unless it is a known redirect wrapper, then
 * what it wraps (recursively). Any query parameter holding a full URL (an open redirect on an
 * innocent site) is followed too, in addition to the link's own host.
 */
export function linkTargets(link: string): LinkTarget[] {
  const out: LinkTarget[] = [];
  let url = parse(link);
  for (let depth = 0; url && depth < MAX_UNWRAP; depth++) {
    const inner = unwrapRedirect(url);
    if (inner) {
      url = parse(inner);
      continue;
    }
    const t = targetOf(url);
    if (t) out.push(t);
    for (const v of url.searchParams.values()) {
      if (!/^(https?:)?\/\//i.test(v)) continue;
      const nested = parse(v);
      const nt = nested ? targetOf(nested) : null;
      if (nt) out.push(nt);
    }
    break;
  }
  return out;
}
