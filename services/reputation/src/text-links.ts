import { createRequire } from 'node:module';
import LinkifyIt from 'linkify-it';

// Every IANA TLD (linkify-it alone knows a few), so "www.brand.shop" or "offer.xyz/win" without a
// scheme are links too; plus the RFC 2606 names, which only tests and examples use.
const tlds = createRequire(import.meta.url)('tlds') as string[];
const linkify = new LinkifyIt().tlds([...tlds, 'example', 'test', 'invalid'], false);

/** URLs in plain text, with or without a scheme ("www.example.com", "example.com/x"). */
export function textLinks(text: string): string[] {
  return (linkify.match(text) ?? []).map((m) => m.url);
}
