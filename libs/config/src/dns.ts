import { z } from 'zod';

const HostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+)(:\d{1,5})?$/, 'expected host or host:port (IPv6 in brackets)');

/** The DNS layer every service shares: servers, timeouts, caches. */
const Dns = z.strictObject({
  /**
   * Resolvers to ask, host:port (port 53 when omitted), tried in order. Empty: the system's
   * (/etc/resolv.conf). The environment variable PORTCULLIS_DNS_SERVERS (comma-separated) overrides it.
   */
  servers: z.array(HostPort).default([]),
  /** One query to one server; past it the next server (or attempt) is asked. */
  timeoutMs: z.number().int().min(50).max(30000).default(2000),
  /** Rounds over the server list before a look-up is a temporary error. */
  attempts: z.number().int().min(1).max(5).default(2),
  /** All look-ups for one message together (SPF, DKIM, DMARC, ARC, BIMI, lists): never longer than this. */
  messageDeadlineMs: z.number().int().min(100).max(120000).default(10000),
  /** Queries on the wire at once per process; more wait (bounded by their deadline). */
  maxInFlight: z.number().int().min(1).max(10000).default(256),
  cache: z
    .strictObject({
      /** Share answers between replicas through the state store (Redis). */
      shared: z.boolean().default(true),
      /** Answers kept in process memory (least recently used goes first). */
      memoryEntries: z.number().int().min(0).max(1_000_000).default(10000),
      /** TTLs below this are raised to it, above maxTtlSeconds lowered to that (negative answers too). */
      minTtlSeconds: z.number().int().min(0).max(86400).default(30),
      maxTtlSeconds: z.number().int().min(1).max(604800).default(3600),
      /** A negative answer without an SOA (a resolver that left it out) is cached this long. */
      negativeTtlSeconds: z.number().int().min(0).max(86400).default(300),
    })
    .prefault({}),
});

export type DnsConfig = z.infer<typeof Dns>;

export const dnsSections = {
  dns: Dns.prefault({}),
};
