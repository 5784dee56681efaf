/**
 * Redirect wrappers of well-known services: the link points at the service, the reader lands on
 * the target in a query parameter. Unwrapped so the target is what gets looked up (the wrapper's
 * own domain is of no interest: it is Google's, Microsoft's...).
 */
interface Wrapper {
  /** Host, or a suffix starting with a dot. */
  host: string;
  path?: RegExp;
  params: string[];
  decode?: (value: string) => string;
}

/** Proofpoint URL Defense v2 writes the target with - for % and _ for /. */
const proofpointV2 = (v: string) => decodeURIComponent(v.replace(/_/g, '/').replace(/-/g, '%'));

const WRAPPERS: Wrapper[] = [
  { host: 'google.com', path: /^\/url$/, params: ['q', 'url'] },
  { host: '.google.com', path: /^\/url$/, params: ['q', 'url'] },
  { host: '.safelinks.protection.outlook.com', params: ['url'] },
  { host: 'l.facebook.com', path: /^\/l\.php$/, params: ['u'] },
  { host: 'lm.facebook.com', path: /^\/l\.php$/, params: ['u'] },
  { host: 'www.youtube.com', path: /^\/redirect$/, params: ['q'] },
  { host: 'slack-redir.net', path: /^\/link$/, params: ['url'] },
  { host: 'urldefense.proofpoint.com', path: /^\/v2\/url$/, params: ['u'], decode: proofpointV2 },
  { host: 'out.reddit.com', params: ['url'] },
  { host: 'www.linkedin.com', path: /^\/redir\/redirect$/, params: ['url'] },
];

function matches(w: Wrapper, url: URL): boolean {
  const host = url.hostname;
  const hostOk = w.host.startsWith('.') ? host.endsWith(w.host) : host === w.host;
  return hostOk && (!w.path || w.path.test(url.pathname));
}

/** The target of a known wrapper, or null when url is not one (or carries no target). */
export function unwrapRedirect(url: URL): string | null {
  for (const w of WRAPPERS) {
    if (!matches(w, url)) continue;
    for (const p of w.params) {
      const v = url.searchParams.get(p);
      if (!v) continue;
      try {
        return w.decode ? w.decode(v) : v;
      } catch {
        return null;
      }
    }
  }
  return null;
}

/**
 * Link shorteners hide the target behind a redirect we do not follow (following would tell the
 * spammer the address is read, and costs an HTTP request per link): flagged instead.
 */
const SHORTENERS = new Set([
  'bit.ly',
  'bitly.com',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'rb.gy',
  'tiny.cc',
  'bl.ink',
  'lnkd.in',
  's.id',
  'v.gd',
  't.ly',
  'shorte.st',
  'adf.ly',
  'qrco.de',
  'tr.im',
  'soo.gd',
  'clck.ru',
  'x.co',
]);

export function isShortener(host: string): boolean {
  return SHORTENERS.has(host.toLowerCase());
}
