/**
 * The raw message as every stage reads it: where the header ends, its fields unfolded and
 * decoded, its addresses (strict), its MIME parts (bounded) and its links.
 */
export { splitMessage, headerSection, messageBody, type MessageSplit } from './split.js';
export { headerFields, headerLines, fieldName, fieldValues, fieldValueOctets, unfold, decodeHeaderValue } from './header-fields.js';
export { parseAddress, parseDomain, parseMailboxList, readFromHeader, extractFromAddresses, type ParsedAddress, type FromHeaderInfo } from './address-parser.js';
export { parseMime, DEFAULT_MIME_LIMITS, EMPTY_MESSAGE, MimeLimitError, type Mailbox, type MimeLimits, type ParsedMessage, type Part } from './mime/parse.js';
export { htmlLinks, MAX_ANCHORS, type Anchor, type HtmlLinks } from './links/html-links.js';
export { textLinks } from './links/text-links.js';
export { linkTargets, type LinkTarget } from './links/url-targets.js';
export { isShortener, unwrapRedirect } from './links/redirect-wrappers.js';
export { messageLinks, type FoundLinks, type TextAndHtml } from './links/message-links.js';
