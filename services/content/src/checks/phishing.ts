import { domainToASCII } from 'node:url';
import { domainOf, result, type CheckResult } from '@portcullis/contract';
import { htmlLinks } from '@portcullis/message';
import type { ContentCheck, ScanContext } from './context.js';
import { imitatedDomain, isSameOrSub } from './lookalike-domains.js';
import { shownHost, urlHost } from './links.js';

/** Domains the rules protect: the configured ones and every accepted domain. */
export function protectedDomains(ctx: ScanContext): string[] {
  return [...new Set([...ctx.config.phishing.protectedDomains, ...ctx.localDomains])];
}

function isLocal(ctx: ScanContext, domain: string): boolean {
  return ctx.localDomains.some((d) => isSameOrSub(domain, d));
}

/** Mail that comes from outside: not submitted by our users, From not one of our domains. */
export function isExternal(ctx: ScanContext): boolean {
  const from = ctx.parsed.from[0];
  return !ctx.outbound && !(from && isLocal(ctx, domainOf(from.address)));
}

const fail = (ctx: ScanContext, check: string, reason: string, score: number): CheckResult => result('content', `content.phishing.${check}`, 'fail', reason, score, ctx.now);

/** content.phishing.display-name: a protected person's name, or a protected domain, shown over another address. */
export const checkDisplayName: ContentCheck = (ctx) => {
  const out: CheckResult[] = [];
  const score = ctx.config.phishing.scores.displayName;
  for (const from of ctx.parsed.from) {
    const shown = from.name.toLowerCase().replace(/\s+/g, ' ').trim();
    if (!shown) continue;
    for (const p of ctx.config.phishing.protectedNames) {
      if (shown.includes(p.name.toLowerCase()) && from.address !== p.address.toLowerCase()) {
        out.push(fail(ctx, 'display-name', `From shows the name "${p.name}" but the address is ${from.address}`, score));
      }
    }
    const fromDomain = domainOf(from.address);
    for (const d of protectedDomains(ctx)) {
      if (shown.includes(d) && !isSameOrSub(fromDomain, d)) out.push(fail(ctx, 'display-name', `From shows ${d} but the address is ${from.address}`, score));
    }
  }
  return out;
};

/** A host as the operator can tell it apart: with its punycode form when it is not plain ASCII. */
function shown(host: string): string {
  const ascii = domainToASCII(host);
  return ascii && ascii !== host ? `${host} (${ascii})` : host;
}

/** content.phishing.lookalike: From, Reply-To or a link on a domain made to look like a protected one. */
export const checkLookalikes: ContentCheck = (ctx) => {
  const p = ctx.config.phishing;
  const domains = protectedDomains(ctx);
  const seen = new Map<string, string>();
  const consider = (host: string | undefined, where: string): void => {
    if (!host || seen.has(host)) return;
    const imitated = imitatedDomain(host, domains, p.maxEditDistance);
    if (imitated) seen.set(host, `${where} uses ${shown(host)}, a look-alike of ${imitated}`);
  };
  for (const m of ctx.parsed.from) consider(domainOf(m.address), 'From');
  for (const m of ctx.parsed.replyTo) consider(domainOf(m.address), 'Reply-To');
  for (const l of htmlLinks(ctx.parsed.html).anchors) consider(urlHost(l.href), 'a link');
  return [...seen.values()].map((reason) => fail(ctx, 'lookalike', reason, p.scores.lookalike));
};

/** content.phishing.link-mismatch: a link whose text shows one domain while it goes to another. */
export const checkLinkMismatch: ContentCheck = (ctx) => {
  const out: CheckResult[] = [];
  for (const link of htmlLinks(ctx.parsed.html).anchors) {
    const shown = shownHost(link.text);
    const real = urlHost(link.href);
    if (!shown || !real || isSameOrSub(real, shown) || isSameOrSub(shown, real)) continue;
    out.push(fail(ctx, 'link-mismatch', `a link shows ${shown} but goes to ${real}`, ctx.config.phishing.scores.linkMismatch));
    if (out.length >= 5) break;
  }
  return out;
};

/** content.phishing.reply-to: external mail whose replies would go to another domain than its From. */
export const checkReplyTo: ContentCheck = (ctx) => {
  const from = ctx.parsed.from[0];
  if (!from || !isExternal(ctx)) return [];
  const fromDomain = domainOf(from.address);
  const other = ctx.parsed.replyTo.find((r) => domainOf(r.address) !== fromDomain);
  return other ? [fail(ctx, 'reply-to', `Reply-To ${other.address} differs from From ${from.address} on mail from outside`, ctx.config.phishing.scores.replyTo)] : [];
};
