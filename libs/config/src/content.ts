import { z } from 'zod';
import { DomainName } from './common.js';

/**
 * What happens when an engine is down or too slow: tempfail answers 451 so the sender
 * retries (nothing passes unscanned); skip goes on, with the check recorded as skipped.
 */
const OnFailure = z.enum(['tempfail', 'skip']);

/** clamd over INSTREAM. `address` is tcp://host:port or unix:/path/to/clamd.sock. */
const Antivirus = z.strictObject({
  enabled: z.boolean().default(false),
  address: z
    .string()
    .regex(/^(tcp:\/\/[^:]+:\d+|unix:\/.+)$/, 'expected tcp://host:port or unix:/path')
    .default('tcp://127.0.0.1:3310'),
  /** One scan, connect to verdict. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  /** Keep below clamd's StreamMaxLength (default 25M there); larger messages follow onTooLarge. */
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /** Scans in flight at once per content process; further scans wait for a place. */
  poolSize: z.number().int().min(1).max(256).default(8),
  onFailure: OnFailure.default('tempfail'),
  /** A message larger than maxBytes: tempfail would never pass, so the default is skip (recorded). */
  onTooLarge: OnFailure.default('skip'),
});

/** rspamd's /checkv2 HTTP API. */
const Antispam = z.strictObject({
  enabled: z.boolean().default(false),
  url: z.url().default('http://127.0.0.1:11333'),
  timeoutMs: z.number().int().min(100).max(300_000).default(15_000),
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  concurrency: z.number().int().min(1).max(256).default(8),
  onFailure: OnFailure.default('skip'),
});

const Attachments = z.strictObject({
  blockedExtensions: z
    .array(z.string().regex(/^[a-z0-9]+$/))
    .default([
      'exe',
      'com',
      'scr',
      'pif',
      'bat',
      'cmd',
      'vbs',
      'vbe',
      'js',
      'jse',
      'wsf',
      'wsh',
      'ps1',
      'msi',
      'msp',
      'hta',
      'cpl',
      'jar',
      'lnk',
      'iso',
      'img',
      'vhd',
      'vhdx',
      'dll',
      'reg',
      'scf',
      'application',
      'gadget',
      'appx',
      'msix',
    ]),
  /** Blocked (the real type is what counts): executables, whatever they are called. */
  blockedTypes: z.array(z.string()).default(['application/x-msdownload', 'application/x-elf', 'application/x-mach-binary', 'application/x-msi', 'application/x-ms-shortcut']),
  maxPartBytes: z
    .number()
    .int()
    .min(1)
    .default(20 * 1024 * 1024),
  maxTotalBytes: z
    .number()
    .int()
    .min(1)
    .default(40 * 1024 * 1024),
  /** Parts larger than this are counted but not opened (zip, OLE): memory stays bounded. */
  maxInspectBytes: z
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  maxArchiveEntries: z.number().int().min(1).default(1000),
  encryptedArchives: z.enum(['reject', 'quarantine', 'score']).default('quarantine'),
  macros: z.enum(['reject', 'quarantine', 'score']).default('quarantine'),
  /** What a blocked extension or type does. */
  blocked: z.enum(['reject', 'quarantine']).default('reject'),
});

const ProtectedName = z.strictObject({ name: z.string().min(2), address: z.string().min(3) });

const Phishing = z.strictObject({
  /** Domains whose look-alikes are suspicious (default: the accepted domains). */
  protectedDomains: z.array(DomainName).default([]),
  /** People whose names in a display name, from outside, are impersonation. */
  protectedNames: z.array(ProtectedName).default([]),
  /** Edit distance at or below which a domain counts as a look-alike (0 turns it off). */
  maxEditDistance: z.number().int().min(0).max(3).default(1),
  scores: z
    .strictObject({
      displayName: z.number().default(6),
      lookalike: z.number().default(8),
      linkMismatch: z.number().default(4),
      replyTo: z.number().default(2),
    })
    .prefault({}),
});

const Thresholds = z.strictObject({
  tag: z.number().optional(),
  quarantine: z.number().optional(),
  reject: z.number().optional(),
});

const ExternalTag = z.strictObject({
  header: z.boolean().default(true),
  subjectPrefix: z.string().max(40).optional(),
  /** Text shown above the message, as its first MIME part. */
  banner: z.string().min(1).max(2000).optional(),
});

const Policy = z.strictObject({
  /** Scores at or above each threshold take that action. */
  thresholds: z
    .strictObject({ tag: z.number().default(6), quarantine: z.number().default(10), reject: z.number().default(15) })
    .refine((t) => t.tag <= t.quarantine && t.quarantine <= t.reject, 'thresholds must satisfy tag <= quarantine <= reject')
    .prefault({}),
  /** Overrides per recipient domain, and per recipient address (the address wins). */
  domains: z.record(z.string(), Thresholds).default({}),
  recipients: z.record(z.string(), Thresholds).default({}),
  subjectPrefix: z.string().max(40).default('[SPAM]'),
  /** Outgoing mail of authenticated users: at or above `hold` it is quarantined, never sent. */
  outbound: z.strictObject({ hold: z.number().default(6) }).prefault({}),
  /** Tagging of mail from outside, per recipient domain. */
  externalTagging: z.record(z.string(), ExternalTag).default({}),
});

/** Content scanning (ClamAV, rspamd, attachment and phishing rules) and the verdict policy. */
const Content = z.strictObject({
  antivirus: Antivirus.prefault({}),
  antispam: Antispam.prefault({}),
  attachments: Attachments.prefault({}),
  phishing: Phishing.prefault({}),
  policy: Policy.prefault({}),
});
export type ContentConfig = z.infer<typeof Content>;

export const contentSections = {
  content: Content.prefault({}),
};
