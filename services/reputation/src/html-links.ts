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

/**
 * Links of an HTML part: the href (and similar) targets, and the visible text, which often shows a
 * different address than the one linked (both are looked up). Entities are decoded by the parser
 * (&#x68;ttp://...), script and style are not text. One linear pass (readHtml: no element tree).
 */
export function htmlLinks(html: string): { targets: string[]; visibleText: string } {
  const targets: string[] = [];
  const text: string[] = [];
  let hidden = 0;
  readHtml(html, {
    onopentag(name, attrs) {
      if (name === 'script' || name === 'style') hidden++;
      for (const attr of LINK_ATTRIBUTES[name] ?? []) {
        const v = attrs[attr]?.trim();
        if (v) targets.push(v);
      }
    },
    onclosetag(name) {
      if ((name === 'script' || name === 'style') && hidden > 0) hidden--;
    },
    ontext(t) {
      if (hidden === 0) text.push(t);
    },
  });
  return { targets, visibleText: text.join(' ') };
}
