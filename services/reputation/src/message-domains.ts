import { getDomain } from 'tldts';
import { domainOf, type Envelope } from '@portcullis/contract';
import { linkTargets, messageLinks, type ParsedMessage } from '@portcullis/message';

export interface MessageDomains {
  /** Registered domains to look up, most telling first: link targets, then senders, then the envelope. */
  domains: string[];
  /** Hosts of links that are bare IP addresses. */
  ipLinks: string[];
  /** Shortener hosts linked. */
  shorteners: string[];
  /** Links seen (before the cap). */
  links: number;
}

/** The parts of a parsed message that name domains. */
export type DomainSources = Pick<ParsedMessage, 'text' | 'html' | 'from' | 'replyTo'>;

const domainOfAddress = (a: string) => getDomain(domainOf(a)) ?? null;

/**
 * reputation.domains: every domain the message would send a reader to or claims to be from.
 * Links in text and HTML (href and visible text), then From and Reply-To, then MAIL FROM, HELO
 * and the client's name. Our own domains are left out (every message names them).
 */
export function messageDomains(parts: DomainSources, envelope: Envelope, ours: ReadonlySet<string>, maxLinks: number): MessageDomains {
  const { links } = messageLinks(parts);
  const seen = new Set<string>();
  const domains: string[] = [];
  const ipLinks = new Set<string>();
  const shorteners = new Set<string>();
  const add = (d: string | null) => {
    if (d && !ours.has(d) && !seen.has(d)) {
      seen.add(d);
      domains.push(d);
    }
  };
  for (const link of links.slice(0, maxLinks)) {
    for (const t of linkTargets(link)) {
      if (t.kind === 'ip') ipLinks.add(t.host);
      else {
        if (t.shortener) shorteners.add(t.host);
        add(t.domain);
      }
    }
  }
  for (const m of [...parts.from, ...parts.replyTo]) add(domainOfAddress(m.address));
  if (envelope.mailFrom) add(domainOfAddress(envelope.mailFrom));
  for (const host of [envelope.helo, envelope.client.hostname ?? '']) {
    const h = host.replace(/^\[|\]$/g, '');
    if (h && !/^[\d.:]+$/.test(h)) add(getDomain(h));
  }
  return { domains, ipLinks: [...ipLinks], shorteners: [...shorteners], links: links.length };
}
