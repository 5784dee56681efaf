import { z } from 'zod';

import { Port, Listen, DomainName, Downstream, Cidr, IpOrCidr } from './common.js';
import { dnsSections } from './dns.js';
import { authenticationSections } from './authentication.js';
import { reputationSections, List, Lookups } from './reputation.js';
import { contentSections } from './content.js';
import { relaySections } from './relay.js';
import { messageTraceSections } from './message-trace.js';
import { kubernetesSections } from './kubernetes.js';
import { httpSections } from './http.js';
import { Stages } from './stages.js';

export { DownstreamTls } from './common.js';

const Domain = z
  .strictObject({
    name: DomainName,
    /** The mailbox server for this domain; without it mail goes to the Maildir (trying it out only). */
    downstream: Downstream.optional(),
    /**
     * The case of recipients' local parts: 'preserve' passes them on as the sender wrote them (RFC
     * 5321 2.4: the mailbox server decides what case means); 'lower' folds them at RCPT, so that
     * Bob@ and bob@ are one mailbox everywhere after the edge (verification cache, de-duplication,
     * Maildir, the mailbox server). The domain is always lower-cased.
     */
    localPartCase: z.enum(['preserve', 'lower']).default('preserve'),
    /**
     * Ask the downstream (RCPT without DATA) whether each recipient exists, and refuse unknown
     * ones in the session (550 5.1.1) instead of bouncing later. Answers are cached.
     */
    verifyRecipients: z
      .strictObject({
        enabled: z.boolean().default(true),
        positiveTtlSeconds: z.number().int().min(0).default(3600),
        negativeTtlSeconds: z.number().int().min(0).default(300),
        timeoutMs: z.number().int().min(200).max(60000).default(5000),
      })
      .optional(),
  })
  .refine((d) => !d.verifyRecipients?.enabled || d.downstream, {
    message: 'verifyRecipients needs a downstream to ask',
    path: ['verifyRecipients'],
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

const Proxy = z.strictObject({
  /** Peers allowed to send a PROXY header (the load balancer's addresses). */
  trustedCidrs: z.array(Cidr).min(1),
  /**
   * A trusted peer must always send a header (v1 or v2). true: peers outside trustedCidrs are
   * refused (421); false: they are served as direct clients with their own address.
   */
  required: z.boolean().default(true),
  headerTimeoutMs: z.number().int().min(100).max(30000).default(5000),
});

const Listener = (port: number, enabled: boolean) =>
  z
    .strictObject({
      enabled: z.boolean().default(enabled),
      listen: Listen.default({ host: '0.0.0.0', port }),
      /** HAProxy PROXY protocol in front of this listener. */
      proxy: Proxy.optional(),
    })
    .prefault({});

/**
 * Command-phase timeouts (RFC 5321 4.5.3.2), from the start of each wait for a command line; bytes
 * do not extend them. Ceilings are the RFC's minimums. docs/limits.md lists each.
 */
const CommandTimeouts = z
  .strictObject({
    /** The first command after the 220 greeting. */
    greetingMs: z.number().int().min(1000).max(300_000).default(60_000),
    /** Any command before MAIL (EHLO, STARTTLS and its handshake, AUTH, RSET, the next MAIL). */
    mailMs: z.number().int().min(1000).max(300_000).default(60_000),
    /** RCPT or DATA inside a transaction. */
    rcptMs: z.number().int().min(1000).max(300_000).default(300_000),
    /** The first octet of the message after 354. */
    dataInitiationMs: z.number().int().min(1000).max(120_000).default(120_000),
    /** A gap in the message data (noticed within a quarter of it). */
    dataBlockMs: z.number().int().min(1000).max(180_000).default(180_000),
    /** greetingMs and mailMs of unauthenticated sessions while the listener is under pressure (reclaim.stressAtFraction). */
    stressedPreMailMs: z.number().int().min(1000).max(300_000).default(10_000),
  })
  .prefault({});

/** Slot reclaiming: idle sessions that have not sent MAIL make way for newcomers when slots run short. */
const Reclaim = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** A new connection above this fraction of maxClients closes the longest-waiting idle pre-MAIL sessions (421 4.7.0). */
    atFraction: z.number().gt(0).max(1).default(0.9),
    /** From this fraction of maxClients on, pre-MAIL waits shrink to commandTimeouts.stressedPreMailMs. */
    stressAtFraction: z.number().gt(0).max(1).default(0.8),
  })
  .prefault({});

/** RFC 5321 4.5.3.2.6: the client waits at least 10 minutes for the reply to the final dot. */
const DATA_TERMINATION_MS = 600_000;

const Smtp = z
  .strictObject({
    /** Port 25: mail from the Internet. STARTTLS offered, plain allowed (opportunistic TLS). */
    mx: Listener(2525, true),
    /** Port 587 (RFC 6409): STARTTLS, then AUTH; nothing accepted without AUTH. */
    submission: Listener(2587, false),
    /** Port 465 (RFC 8314): implicit TLS, then AUTH. */
    submissions: Listener(2465, false),
    /** On the MX listener, refuse MAIL without STARTTLS from these sender domains or client networks. */
    requireTls: z.strictObject({ senderDomains: z.array(DomainName).default([]), networks: z.array(Cidr).default([]) }).prefault({}),
    /** Largest message accepted, in octets (SIZE, RFC 1870). */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(200 * 1024 * 1024)
      .default(25 * 1024 * 1024),
    maxRecipients: z.number().int().min(1).max(10000).default(100),
    maxClients: z.number().int().min(1).max(100000).default(500),
    /** Message bytes all sessions of one edge may hold in memory together; past it 452 4.3.1. */
    maxBufferedBytes: z
      .number()
      .int()
      .min(1024)
      .default(512 * 1024 * 1024),
    socketTimeoutMs: z.number().int().min(1000).default(60000),
    /** Bound on the durable write at end of DATA; past it the client gets 451 4.3.0. */
    storeTimeoutMs: z.number().int().min(100).max(120000).default(10000),
    /** How long the client is kept waiting for the pipeline's verdict before 250. */
    verdictTimeoutMs: z.number().int().min(0).max(600000).default(20000),
    /** What a bare CR or LF in DATA gets: rejected (550 5.6.0) or rewritten to CRLF. */
    bareLineEndings: z.enum(['reject', 'normalize']).default('reject'),
    /** Per-connection limits; docs/limits.md lists each with the reply it produces. */
    limits: z
      .strictObject({
        maxCommands: z.number().int().min(0).default(20000),
        maxErrors: z.number().int().min(0).default(20),
        maxMessages: z.number().int().min(0).default(100),
        sessionTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(30 * 60_000),
        dataTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(5 * 60_000),
        dataMinBytesPerSecond: z.number().int().min(0).default(4096),
        enforceDeclaredSize: z.boolean().default(true),
        maxHeaderBytes: z
          .number()
          .int()
          .min(1024)
          .default(256 * 1024),
        maxLineLength: z.number().int().min(78).default(998),
        /** After this many errors in a session, each refusal waits tarpitDelayMs more (up to tarpitMaxMs). */
        tarpitAfterErrors: z.number().int().min(0).default(3),
        tarpitDelayMs: z.number().int().min(0).default(1000),
        tarpitMaxMs: z.number().int().min(0).max(60000).default(10000),
      })
      .prefault({}),
    commandTimeouts: CommandTimeouts,
    reclaim: Reclaim,
  })
  .refine((s) => s.storeTimeoutMs + s.verdictTimeoutMs < DATA_TERMINATION_MS, {
    message: `storeTimeoutMs + verdictTimeoutMs must stay under ${DATA_TERMINATION_MS} ms: a client waits at least 10 minutes for the reply to the final dot (RFC 5321 4.5.3.2.6), then gives up and sends the message again`,
    path: ['verdictTimeoutMs'],
  });

const Tls = z.strictObject({
  /**
   * Certificate and key files, e.g. a cert-manager Secret mounted as a
   * directory (tls.crt, tls.key). Several are served by SNI; an ECDSA and an
   * RSA certificate for the same names are both offered.
   */
  certificates: z.array(z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) })).default([]),
  /** With no certificates: make a self-signed one under selfSignedDir (trying out only). */
  selfSigned: z.boolean().default(false),
  selfSignedDir: z.string().default('var/tls'),
  /** How often the files are checked for a renewal. */
  reloadCheckMs: z.number().int().min(1000).default(30000),
});

/** SMTP AUTH on the submission ports (the edge's login; "authentication" is the SPF/DKIM/DMARC stage). */
const Login = z
  .strictObject({
    /** Where credentials are checked: a users file with scrypt hashes, or the mailbox server itself. */
    source: z.enum(['none', 'file', 'passthrough']).default('none'),
    file: z.strictObject({ path: z.string().min(1), pollSeconds: z.number().int().min(1).max(3600).default(5) }).optional(),
    passthrough: z
      .strictObject({
        host: z.string().min(1),
        port: Port.default(587),
        tls: z.enum(['starttls', 'implicit']).default('starttls'),
        verifyCertificate: z.boolean().default(true),
        timeoutMs: z.number().int().min(500).default(10000),
        /** CA bundle to verify the mailbox server's certificate with (default: the system's). */
        caFile: z.string().optional(),
        /** Name to verify the certificate against, when host is an IP address. */
        servername: z.string().optional(),
        /** A success is remembered this long (as a salted hash, never the password). */
        cacheSeconds: z.number().int().min(0).max(3600).default(60),
        maxConcurrent: z.number().int().min(1).max(256).default(8),
        /** Per user (its login name): further addresses it may send as, full or "@domain". */
        aliases: z.record(z.string(), z.array(z.string())).default({}),
      })
      .optional(),
    /** AUTH failures allowed in one connection before it is closed (421). */
    maxFailuresPerConnection: z.number().int().min(1).max(20).default(3),
  })
  .refine((a) => a.source !== 'file' || a.file, { message: 'login.file is required when login.source is file', path: ['file'] })
  .refine((a) => a.source !== 'passthrough' || a.passthrough, { message: 'login.passthrough is required when login.source is passthrough', path: ['passthrough'] });

/**
 * What the edge does as a client connects, before the greeting. dnsbl: DNSBL/DNSWL look-ups of
 * the client address (docs/reputation.md lists the supported lists); the summed weight refuses,
 * delays the greeting, or is carried in the record for the later stages.
 */
const Connect = z.strictObject({
  dnsbl: z
    .strictObject({
      lists: z.array(List).default([]),
      /** Sum of weights at which the client is refused before the greeting (554 5.7.1, list named). */
      refuseAt: z.number().default(10),
      /** Sum at which the greeting is delayed by tarpitMs (a spam cannon gives up, a real MTA waits). */
      tarpitAt: z.number().default(5),
      tarpitMs: z.number().int().min(0).max(60000).default(5000),
      ...Lookups,
    })
    .prefault({}),
});

const Rates = {
  /** 0 turns a limit off. */
  connections: z.number().int().min(0),
  connectionsPerMinute: z.number().int().min(0),
  messagesPerMinute: z.number().int().min(0),
  recipientsPerMinute: z.number().int().min(0),
};

/** Cluster-wide flow control (shared through state.redis; per process in embedded mode). */
const Flow = z.strictObject({
  /** Never limited, never banned. */
  allow: z.array(IpOrCidr).default([]),
  /** Refused at connect (554 5.7.1). */
  deny: z.array(IpOrCidr).default([]),
  perIp: z.strictObject(Rates).default({ connections: 20, connectionsPerMinute: 60, messagesPerMinute: 120, recipientsPerMinute: 600 }),
  perNetwork: z
    .strictObject({ ...Rates, ipv4PrefixLength: z.number().int().min(8).max(32), ipv6PrefixLength: z.number().int().min(16).max(128) })
    .default({ connections: 60, connectionsPerMinute: 300, messagesPerMinute: 600, recipientsPerMinute: 3000, ipv4PrefixLength: 24, ipv6PrefixLength: 64 }),
  /** How long the connection slots of a crashed edge outlive it. */
  leaseSeconds: z.number().int().min(5).max(3600).default(60),
});

/** Login (SMTP AUTH) brute-force lockout, shared by every replica. */
const Lockout = z.strictObject({
  maxFailures: z.number().int().min(1).default(5),
  maxFailuresPerUser: z.number().int().min(1).default(20),
  windowSeconds: z.number().int().min(10).default(600),
  banSeconds: z.number().int().min(1).default(900),
  maxBanSeconds: z.number().int().min(1).default(86400),
  offenceMemorySeconds: z.number().int().min(60).default(86400),
  /** Never counted nor banned (offices, monitoring); flow.allow is exempt too. */
  trusted: z.array(IpOrCidr).default([]),
});

/** The in-process bus of embedded mode (bus.kind: memory). */
const MemoryBus = z.strictObject({
  /** Records a pipeline topic holds before publish waits (back-pressure, never loss). */
  maxRecordsPerTopic: z.number().int().min(1).default(10000),
  /**
   * Octets a pipeline topic holds before publish waits (one record larger than this still goes
   * alone), and octets of kept topics' records loaded from the spool for handlers at once (all
   * kept topics together).
   */
  maxBytesPerTopic: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(64 * 1024 * 1024),
  /**
   * Where kept topics (quarantine, retry tiers, failed, dead-letter) keep their records, one file
   * each (0600, directories 0700), so that they are not in memory and survive a restart.
   */
  spoolDir: z.string().min(1).default('var/spool'),
});

export const ConfigSchema = z.strictObject({
  /** Name of this gateway in the greeting and in Received headers. */
  hostname: z.string().min(1).default('localhost'),
  domains: z.array(Domain).min(1),
  smtp: Smtp.prefault({}),
  tls: Tls.prefault({}),
  login: Login.prefault({}),
  connect: Connect.prefault({}),
  flow: Flow.prefault({}),
  lockout: Lockout.prefault({}),
  ...httpSections,
  bus: z
    .strictObject({
      kind: z.enum(['memory', 'kafka']),
      kafka: Kafka.optional(),
      memory: MemoryBus.prefault({}),
    })
    .refine((b) => b.kind !== 'kafka' || b.kafka, { message: 'bus.kafka is required when bus.kind is kafka', path: ['kafka'] })
    .prefault({ kind: 'memory' }),
  state: z
    .strictObject({ kind: z.enum(['memory', 'redis']), redis: Redis.optional() })
    .refine((s) => s.kind !== 'redis' || s.redis, { message: 'state.redis is required when state.kind is redis', path: ['redis'] })
    .prefault({ kind: 'memory' }),
  stages: Stages.prefault({}),
  ...dnsSections,
  ...authenticationSections,
  ...reputationSections,
  ...contentSections,
  ...relaySections,
  ...messageTraceSections,
  ...kubernetesSections,
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

/** Rules that span sections: a submission port needs TLS and a credential source. */
export const CheckedConfigSchema = ConfigSchema.superRefine((c, ctx) => {
  // A stage's budget covers its waits on engines and DNS: each of them must give up first, so a
  // slow dependency is answered by its own failure policy, not taken for a message over budget.
  const inside: Array<[string, number, boolean]> = [
    ['authentication.timeoutMs', c.authentication.timeoutMs, c.authentication.enabled],
    ['content.antivirus.timeoutMs', c.content.antivirus.timeoutMs, c.content.antivirus.enabled],
    ['content.antispam.timeoutMs', c.content.antispam.timeoutMs, c.content.antispam.enabled],
  ];
  for (const [key, ms, on] of inside) {
    if (on && ms >= c.stages.budgetMs) {
      ctx.addIssue({ code: 'custom', path: ['stages', 'budgetMs'], message: `stages.budgetMs (${c.stages.budgetMs}) must be longer than ${key} (${ms})` });
    }
  }
  for (const kind of ['submission', 'submissions'] as const) {
    if (!c.smtp[kind].enabled) continue;
    if (c.login.source === 'none') {
      ctx.addIssue({ code: 'custom', path: ['login', 'source'], message: `smtp.${kind} is enabled, so login.source must be file or passthrough` });
    }
    if (c.tls.certificates.length === 0 && !c.tls.selfSigned) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'certificates'], message: `smtp.${kind} is enabled, so a certificate is needed (or tls.selfSigned: true)` });
    }
  }
});

export type Config = z.infer<typeof ConfigSchema>;
export type DomainConfig = Config['domains'][number];
export type DownstreamConfig = NonNullable<DomainConfig['downstream']>;
