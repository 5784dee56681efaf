import { readHtml } from '@portcullis/html-events';

/** Attributes that take the reader (or the mail client) somewhere. */
const LINK_ATTRIBUTES: Record<string, string[]> = {
  a: ['href'],
  area: ['href'],
  form: ['action'],
  img: ['src'],
  iframe: ['src'],
  link: ['href'],
};

/** An <a href> with the text it shows, trimmed. */
export interface Anchor {
  href: string;
  text: string;
}

export interface HtmlLinks {
  /** Every href (and similar) target, trimmed, in document order. */
  targets: string[];
  /** The <a href> links with their text (at most maxAnchors): the text often shows another address than the one linked. */
  anchors: Anchor[];
  /** The text a reader sees (not script or style), which is searched for links too. */
  visibleText: string;
}

/** Anchors kept per HTML body. */
export const MAX_ANCHORS = 500;

/**
 * Links of an HTML part: the href (and similar) targets, the anchors with their text, and the
 * visible text. Entities are decoded by the parser (&#x68;ttp://...), script and style are not
 * visible text. One linear pass (readHtml: no element tree); the values are trimmed by index
 * (String.prototype.trim), never with a regular expression (issue 14).
 */
export function htmlLinks(html: string, maxAnchors = MAX_ANCHORS): HtmlLinks {
  const targets: string[] = [];
  const anchors: Anchor[] = [];
  const text: string[] = [];
  let hidden = 0;
  let open: Anchor | null = null;
  const close = (): void => {
    if (!open) return;
    open.text = open.text.trim();
    anchors.push(open);
    open = null;
  };
  readHtml(html, {
    onopentag(name, attrs) {
      if (name === 'script' || name === 'style') hidden++;
      for (const attr of LINK_ATTRIBUTES[name] ?? []) {
        const v = attrs[attr]?.trim();
        if (v) targets.push(v);
      }
      // An <a> inside an open one replaces it (the open one is not kept), as before the move.
      if (name === 'a' && attrs.href && anchors.length < maxAnchors) open = { href: attrs.href.trim(), text: '' };
    },
    onclosetag(name) {
      if ((name === 'script' || name === 'style') && hidden > 0) hidden--;
      if (name === 'a') close();
    },
    ontext(t) {
      if (hidden === 0) text.push(t);
      if (open) open.text += t;
    },
    onend: close, // an <a> left open runs to the end, as browsers read it
  });
  return { targets, anchors, visibleText: text.join(' ') };
}
