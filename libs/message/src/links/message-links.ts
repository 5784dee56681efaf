import { htmlLinks, type Anchor } from './html-links.js';
import { textLinks } from './text-links.js';

export interface TextAndHtml {
  text: string;
  html: string;
}

export interface FoundLinks {
  /** Every link, in the order a reader meets them: HTML targets, links in the HTML's visible text, links in the text part. */
  links: string[];
  /** The HTML's anchors with the text each shows. */
  anchors: Anchor[];
}

/** Every link of a message's text and HTML: one linear pass over each (html-links, text-links). */
export function messageLinks(body: TextAndHtml): FoundLinks {
  const html = body.html ? htmlLinks(body.html) : { targets: [], anchors: [], visibleText: '' };
  return { links: [...html.targets, ...textLinks(html.visibleText), ...textLinks(body.text)], anchors: html.anchors };
}
