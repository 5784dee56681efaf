import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

/** What a reader of tags and text wants to hear; names are lower case, entities decoded. */
export interface HtmlHandlers {
  onopentag?(name: string, attrs: Record<string, string>): void;
  onclosetag?(name: string): void;
  ontext?(text: string): void;
  /** The end of the document (elements still open are not closed one by one). */
  onend?(): void;
}

const char = (cp: number): string => (cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd');

/**
 * The tags and text of an HTML document in one linear pass: htmlparser2's Tokenizer (entities,
 * comments, script and style as raw text, unclosed tags and quotes as browsers read them) without
 * its Parser. The Parser keeps the open elements at the front of an array (unshift for every open
 * tag, indexOf for every close tag), so deep nesting or many unmatched close tags cost quadratic
 * time (100k nested <div> took 7 s). Links and their text need no tree: tags are reported as they
 * come, with no implied closes; a close tag is reported as written.
 */
export function readHtml(html: string, handlers: HtmlHandlers): void {
  let tag = '';
  let attrs: Record<string, string> | null = null;
  let attrName = '';
  let attrValue = '';
  const slice = (start: number, end: number) => html.slice(start, end);
  const openEnd = () => {
    if (attrs) handlers.onopentag?.(tag, attrs);
    attrs = null;
  };
  const callbacks: TokenizerCallbacks = {
    ontext: (start, end) => handlers.ontext?.(slice(start, end)),
    ontextentity: (cp) => handlers.ontext?.(char(cp)),
    onopentagname: (start, end) => {
      tag = slice(start, end).toLowerCase();
      attrs = Object.create(null) as Record<string, string>;
    },
    onattribname: (start, end) => {
      attrName = slice(start, end).toLowerCase();
    },
    onattribdata: (start, end) => {
      attrValue += slice(start, end);
    },
    onattribentity: (cp) => {
      attrValue += char(cp);
    },
    onattribend: () => {
      // The first of a repeated attribute wins, as in browsers.
      if (attrs && !Object.prototype.hasOwnProperty.call(attrs, attrName)) attrs[attrName] = attrValue;
      attrValue = '';
    },
    onopentagend: openEnd,
    onselfclosingtag: openEnd,
    onclosetag: (start, end) => {
      handlers.onclosetag?.(slice(start, end).toLowerCase());
    },
    oncdata: () => {},
    oncomment: () => {},
    ondeclaration: () => {},
    onprocessinginstruction: () => {},
    onend: () => handlers.onend?.(),
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
}
