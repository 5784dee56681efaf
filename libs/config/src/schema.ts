import { z } from 'zod';

const Port = z.number().int().min(0).max(65535);
const Listen = z.strictObject({ host: z.string().min(1), port: Port });
/** A domain name as written in config: lower-cased, no trailing dot. */
const DomainName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i, 'not a domain name')
  .transform((d) => d.toLowerCase());

export const DownstreamTls = z.enum(['none', 'opportunistic', 'required', 'verify']);

const Downstream = z.strictObject({
  host: z.string().min(1),
  port: Port.default(25),
  /**
   * none: never STARTTLS; opportunistic: STARTTLS when offered, any certificate;
   * required: STARTTLS or fail, any certificate; verify: STARTTLS with a certificate valid for host.
   */
  tls: DownstreamTls.default('opportunistic'),
});

const Domain = z.strictObject({
  name: DomainName,
  /** The mailbox server for this domain; without it mail goes to the Maildir (trying it out only). */
  downstream: Downstream.optional(),
});

const Kafka = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1),
  clientId: z.string().default('portcullis'),
  ssl: z.boolean().default(false),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      /** Read at start; the password itself never sits in the config file. */
      passwordFile: z.string().min(1),
    })
    .optional(),
  /** Create missing topics at start (needs the right to; off when an operator manages topics). */
  createTopics: z.boolean().default(true),
  partitions: z.number().int().min(1).max(1000).default(12),
  replicationFactor: z.number().int().min(1).max(7).default(3),
  sessionTimeoutMs: z.number().int().min(3000).max(300000).default(30000),
  /** How long a producer batch waits for more records before it is sent. */
  lingerMs: z.number().int().min(0).max(1000).default(2),
});

const Redis = z.strictObject({
  url: z.string().regex(/^rediss?:\/\//, 'expected redis:// or rediss:// URL'),
  passwordFile: z.string().optional(),
  keyPrefix: z.string().default('portcullis:'),
});

const Smtp = z.strictObject({
  /** Port 25 listener for mail from the Internet. */
  mx: z.strictObject({ listen: Listen }).default({ listen: { host: '0.0.0.0', port: 2525 } }),
  /** Largest message accepted, in octets (SIZE, RFC 1870). */
  maxMessageBytes: z.number().int().min(1024).max(200 * 1024 * 1024).default(25 * 1024 * 1024),
  maxRecipients: z.number().int().min(1).max(10000).default(100),
  maxClients: z.number().int().min(1).max(100000).default(500),
  /** Message bytes all sessions of one edge may hold in memory together; past it 452 4.3.1. */
  maxBufferedBytes: z.number().int().min(1024).default(512 * 1024 * 1024),
  socketTimeoutMs: z.number().int().min(1000).default(60000),
  /** Bound on the durable write at end of DATA; past it the client gets 451 4.3.0. */
  storeTimeoutMs: z.number().int().min(100).max(120000).default(10000),
  /** How long the client is kept waiting for the pipeline's verdict before 250. */
  verdictTimeoutMs: z.number().int().min(0).max(600000).default(20000),
  /** What a bare CR or LF in DATA gets: rejected (550 5.6.0) or rewritten to CRLF. */
  bareLineEndings: z.enum(['reject', 'normalize']).default('reject'),
});

const Relay = z.strictObject({
  /** Where mail for a domain without a downstream is written, one Maildir per recipient. */
  maildir: z.string().default('var/mail'),
  maxConnectionsPerDestination: z.number().int().min(1).max(100).default(5),
  connectionTimeoutMs: z.number().int().min(1000).default(30000),
  /** Delays between delivery attempts; the last one repeats. */
  retryDelaysSeconds: z.array(z.number().min(0)).min(1).default([60, 300, 900, 1800, 3600]),
});

export const ConfigSchema = z.strictObject({
  /** Name of this gateway in the greeting and in Received headers. */
  hostname: z.string().min(1).default('localhost'),
  domains: z.array(Domain).min(1),
  smtp: Smtp.default(Smtp.parse({})),
  http: z.strictObject({ listen: Listen }).default({ listen: { host: '127.0.0.1', port: 8025 } }),
  bus: z
    .strictObject({
      kind: z.enum(['memory', 'kafka']),
      kafka: Kafka.optional(),
      memory: z
        .strictObject({ maxRecordsPerTopic: z.number().int().min(1).default(10000) })
        .default({ maxRecordsPerTopic: 10000 }),
    })
    .refine((b) => b.kind !== 'kafka' || b.kafka, { message: 'bus.kafka is required when bus.kind is kafka', path: ['kafka'] })
    .default({ kind: 'memory', memory: { maxRecordsPerTopic: 10000 } }),
  state: z
    .strictObject({ kind: z.enum(['memory', 'redis']), redis: Redis.optional() })
    .refine((s) => s.kind !== 'redis' || s.redis, { message: 'state.redis is required when state.kind is redis', path: ['redis'] })
    .default({ kind: 'memory' }),
  stages: z
    .strictObject({ concurrency: z.number().int().min(1).max(1000).default(32) })
    .default({ concurrency: 32 }),
  relay: Relay.default(Relay.parse({})),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type DomainConfig = Config['domains'][number];
export type DownstreamConfig = NonNullable<DomainConfig['downstream']>;
