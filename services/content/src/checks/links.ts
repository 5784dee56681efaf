/**
 * What a link of an HTML body shows and where it goes, for the phishing rules. The links
 * themselves (anchors with their text) come from @portcullis/message (htmlLinks).
 */

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
