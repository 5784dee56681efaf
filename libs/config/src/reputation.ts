import { z } from 'zod';
import { DomainName, IpOrCidr } from './common.js';

/**
 * URIBL on content (the DNSBL/DNSWL at connect is the edge's: connect.dnsbl in schema.ts), allow and block lists, sender history.
 * docs/reputation.md lists the supported lists with copyable examples.
 */

/** An answer a list gives (127.0.0.2, or a range such as 127.0.0.0/24) and what it means. */
const ListCode = z.strictObject({
  answer: IpOrCidr,
  /** Overrides the list's weight for this answer (e.g. PBL lighter than SBL). */
  weight: z.number().optional(),
  meaning: z.string().min(1).max(80),
});

/** A bit of the last octet, for lists that answer with a bitmask (multi.uribl.com, multi.surbl.org). */
const ListBit = z.strictObject({
  bit: z.number().int().min(1).max(128),
  weight: z.number().optional(),
  meaning: z.string().min(1).max(80),
});

export const List = z
  .strictObject({
    zone: DomainName,
    /** Score added when listed; negative for allow lists (DNSWL). */
    weight: z.number(),
    /** Answers that are a listing. Without codes and bits, any 127.0.0.2-127.255.255.254 answer is. */
    codes: z.array(ListCode).default([]),
    bits: z.array(ListBit).default([]),
    /** Answers that mean "could not answer" (Spamhaus: 127.255.255.x): recorded as unknown, never listed. */
    errorCodes: z.array(IpOrCidr).default(['127.255.255.0/24']),
  })
  .refine((l) => l.codes.length === 0 || l.bits.length === 0, { message: 'a list has codes or bits, not both', path: ['bits'] });

export const Lookups = {
  /** Bound on one look-up; past it that list is "unknown". */
  timeoutMs: z.number().int().min(50).max(30000).default(1500),
  /** Bound on all look-ups of one connection or message together. */
  deadlineMs: z.number().int().min(50).max(60000).default(3000),
};

const Content = z.strictObject({
  lists: z.array(List).default([]),
  /** IP lists asked about the addresses links point to (e.g. zen.spamhaus.org for its SBL). */
  ipLists: z.array(List).default([]),
  /** At most this many domains (and as many link addresses) are looked up per message. */
  maxDomains: z.number().int().min(1).max(200).default(20),
  /** Score a link to a shortener adds (it hides its target). */
  shortenerWeight: z.number().default(0.5),
  /** Score a link to a bare IP address adds. */
  ipUrlWeight: z.number().default(1),
  /** Stage score at which the reputation stage demands quarantine or reject of the verdict; unset: never. */
  quarantineAt: z.number().optional(),
  rejectAt: z.number().optional(),
  ...Lookups,
});

const Entries = z.strictObject({
  /** Client addresses or networks. */
  ips: z.array(IpOrCidr).default([]),
  /** Full envelope or header sender addresses. */
  senders: z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected user@domain')).default([]),
  /** Sender domains; a subdomain matches too. */
  senderDomains: z.array(DomainName).default([]),
  /** Our recipients (e.g. abuse@ that must see everything, or a spam trap that blocks). */
  recipients: z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected user@domain')).default([]),
});

const History = z.strictObject({
  enabled: z.boolean().default(true),
  /** Counts halve every halfLifeDays. */
  halfLifeDays: z.number().min(0.01).max(365).default(7),
  /** A subject not seen for this long is forgotten (bounded memory). */
  expiryDays: z.number().int().min(1).max(365).default(30),
  /** Fewer (decayed) messages than this: a new sender. */
  minMessages: z.number().min(0).default(3),
  newSenderWeight: z.number().default(1),
  /** Added in proportion to the share of past messages that were spam or rejected. */
  badRatioWeight: z.number().default(5),
  /** Added (usually negative) for an established sender with under 10% bad. */
  goodSenderWeight: z.number().default(-1),
});

const Reputation = z.strictObject({
  content: Content.prefault({}),
  allow: Entries.prefault({}),
  block: Entries.prefault({}),
  history: History.prefault({}),
});

export type ReputationList = z.infer<typeof List>;
export type ReputationConfig = z.infer<typeof Reputation>;
export type LocalListEntries = z.infer<typeof Entries>;

export const reputationSections = {
  reputation: Reputation.prefault({}),
};
