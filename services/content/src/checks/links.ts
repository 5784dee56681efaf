import { readHtml } from '@portcullis/html-events';

export interface Link {
  href: string;
  text: string;
}

const MAX_LINKS = 500;

/** The links of an HTML body with their visible text (one linear pass, readHtml), at most MAX_LINKS. */
export function htmlLinks(html: string): Link[] {
  const links: Link[] = [];
  let open: Link | null = null;
  const close = (): void => {
    if (!open) return;
    open.text = open.text.trim();
    links.push(open);
    open = null;
  };
  readHtml(html, {
    onopentag(name, attrs) {
      if (name === 'a' && attrs.href && links.length < MAX_LINKS) open = { href: attrs.href.trim(), text: '' };
    },
    ontext(text) {
      if (open) open.text += text;
    },
    onclosetag(name) {
      if (name === 'a') close();
    },
    onend: close, // an <a> left open runs to the end, as browsers read it
  });
  return links;
}

/** The host of an http(s) URL, lower-case, or undefined. */
export function urlHost(href: string): string | undefined {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

const SHOWN_DOMAIN = /^(?:https?:\/\/)?((?:[\p{L}\p{N}-]+\.)+[\p{L}]{2,})(?:[/:?#]\S*)?$/iu;

/** The domain a link's text shows, when the text looks like a URL or a bare domain. */
export function shownHost(text: string): string | undefined {
  const m = SHOWN_DOMAIN.exec(text.trim());
  return m ? new URL(`http://${m[1]}`).hostname.toLowerCase() : undefined;
}
