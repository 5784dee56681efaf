import { z } from 'zod';
import { IpOrCidr } from './common.js';

/** What to do with a message that fails a check: refuse it in the session, quarantine it, or only add to its score. */
const Action = z.enum(['reject', 'quarantine', 'score']);

/** For DMARC: a failing message is handled as its domain's policy says ('policy'), or always as given. */
const DmarcAction = z.enum(['policy', 'reject', 'quarantine', 'none']);

const DomainName = z
  .string()
  .min(1)
  .transform((s) => s.toLowerCase().replace(/\.$/, ''));

/** Per-sender-domain exceptions (the domain and its subdomains): From domain for DMARC, MAIL FROM domain for SPF. */
const Override = z.strictObject({
  domain: DomainName,
  /** e.g. quarantine instead of reject for a partner whose mail is forwarded. */
  dmarc: DmarcAction.optional(),
  spfFail: Action.optional(),
  onTempError: z.enum(['tempfail', 'continue']).optional(),
});

/** Sender authentication (auth service): SPF, DKIM, DMARC, ARC, BIMI and their policy. Not SMTP AUTH, which is `auth`. */
const Authentication = z.strictObject({
  enabled: z.boolean().default(true),
  /** RFC 8601 authserv-id of our Authentication-Results headers; the top-level hostname when unset. */
  authservId: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'a host name')
    .optional(),
  /** The whole verification of one message (every look-up and every signature); past it: a temporary error. */
  timeoutMs: z.number().int().min(100).max(120000).default(15000),
  /** SPF temperror, DKIM/DMARC look-ups that failed, the deadline: 451 4.4.3 (tempfail) or go on without (continue). */
  onTempError: z.enum(['tempfail', 'continue']).default('tempfail'),
  /**
   * Clients whose mail is our own (internal relays, monitoring, loopback when trying it out): no
   * look-ups, the checks recorded as skipped and never enforced, `Authentication-Results: ...; none`.
   * Only hosts you run; behind a load balancer only with the real client IP (PROXY protocol or
   * externalTrafficPolicy: Local), or every client would look trusted.
   */
  trustedNetworks: z.array(IpOrCidr).default([]),
  spf: z
    .strictObject({
      /** SPF fail (-all matched) for the MAIL FROM (or, with the null sender, the HELO) identity. */
      onFail: Action.default('reject'),
      /** Also check the HELO identity (RFC 7208 2.3); its fail is handled as onFail says. */
      checkHelo: z.boolean().default(true),
      scores: z
        .strictObject({
          fail: z.number().default(5),
          softfail: z.number().default(2),
          neutral: z.number().default(0),
          none: z.number().default(0.5),
          permerror: z.number().default(1),
        })
        .prefault({}),
    })
    .prefault({}),
  dkim: z
    .strictObject({
      /** Keys shorter than this fail (RFC 8301: 1024 at least). */
      minBitLength: z.number().int().min(512).max(8192).default(1024),
      /** Score when no signature verifies (a message with no signature at all scores nothing). */
      failScore: z.number().default(1),
    })
    .prefault({}),
  dmarc: z
    .strictObject({
      /** 'policy': p=reject refuses (550 5.7.1), p=quarantine quarantines, p=none records only. */
      onFail: DmarcAction.default('policy'),
      /** Honour pct= (RFC 7489 6.6.4): outside the sample the next weaker policy applies. */
      applyPct: z.boolean().default(true),
      /** Several From headers, several addresses in From, or none (RFC 7489 6.6.1): a DMARC failure handled so. */
      onInvalidFrom: Action.default('reject'),
      failScore: z.number().default(3),
    })
    .prefault({}),
  arc: z
    .strictObject({
      /**
       * Forwarders (ARC sealing domains, d= of ARC-Seal) whose valid chain overrides a DMARC
       * failure when the chain says DMARC passed on their side.
       */
      trustedSealers: z.array(DomainName).default([]),
      /** Seal what we pass on (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results). */
      seal: z
        .strictObject({
          domain: DomainName,
          selector: z.string().min(1),
          /** PEM private key (RSA or Ed25519), e.g. a mounted Secret; read at start. */
          privateKeyFile: z.string().min(1),
        })
        .optional(),
    })
    .prefault({}),
  bimi: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  overrides: z.array(Override).default([]),
});

export type AuthenticationConfig = z.infer<typeof Authentication>;

export const authenticationSections = {
  authentication: Authentication.prefault({}),
};
