import { domainToUnicode } from 'node:url';

/**
 * Characters that render like Latin letters in domain names, mapped to the letter they
 * imitate: the Cyrillic and Greek rows of Unicode's confusables.txt that matter for
 * hostnames, plus the digit and letter-pair tricks (0/o, 1/l, rn/m, vv/w). The whole table
 * (thousands of symbols no registry allows in a label) buys nothing here.
 */
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  һ: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  ս: 'u',
  ѵ: 'v',
  ԝ: 'w',
  х: 'x',
  у: 'y',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '5': 's',
  $: 's',
  '@': 'a',
  ı: 'i',
  ł: 'l',
  ø: 'o',
};

/** One character class of the table's keys (single characters, escaped for a class). */
const CONFUSABLE_CHARS = new RegExp(
  `[${Object.keys(CONFUSABLE)
    .map((ch) => ch.replace(/[\\\]^-]/g, '\\$&'))
    .join('')}]`,
  'gu',
);

/** A domain reduced to what it looks like: Unicode form, accents stripped, confusables folded. */
export function skeleton(domain: string): string {
  const unicode = domainToUnicode(domain.toLowerCase()) || domain.toLowerCase();
  const plain = unicode.normalize('NFKD').replace(/\p{M}/gu, '');
  // Only the confusable characters are visited (a callback per character cost 0.24 s on a 2 MiB host).
  const folded = plain.replace(CONFUSABLE_CHARS, (ch) => CONFUSABLE[ch] ?? ch);
  return folded.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/l/g, 'i');
}

/** Damerau-Levenshtein distance (adjacent swaps count one), stopping early past `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The same domain, or one of its subdomains. */
export function isSameOrSub(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * The protected domain that `candidate` imitates, if any: not that domain nor a subdomain of it,
 * but its last labels look the same (confusables, IDN) or are within maxDistance edits.
 */
export function imitatedDomain(candidate: string, protectedDomains: string[], maxDistance: number): string | undefined {
  const host = candidate.toLowerCase().replace(/\.$/, '');
  for (const p of protectedDomains) {
    if (isSameOrSub(host, p)) return undefined; // the real thing
  }
  for (const p of protectedDomains) {
    const tail = host.split('.').slice(-p.split('.').length).join('.');
    if (tail === p) continue;
    if (skeleton(tail) === skeleton(p)) return p;
    if (maxDistance > 0 && p.length >= 5 && editDistance(tail, p, maxDistance) <= maxDistance) return p;
  }
  return undefined;
}
