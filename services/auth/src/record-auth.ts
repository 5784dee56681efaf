import { demand, laterTurn, result, type CheckResult, type MailRecord } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import type { NetworkList } from '@portcullis/networks';
import type { Logger } from '@portcullis/telemetry';
import { verifyMessage, VerifyTimeout } from './verify.js';
import { findings } from './findings.js';
import { applyPolicy, CODES } from './policy.js';
import { prependHeaders, stripForgedResults } from './headers.js';
import type { SealKey } from './seal-key.js';
import type { AuthMetrics } from './metrics.js';

export interface RecordAuthDeps {
  config: Config;
  resolver: DnsResolver;
  logger: Logger;
  metrics: AuthMetrics;
  seal?: SealKey | undefined;
  /** authentication.trustedNetworks, compiled once. */
  trusted?: NetworkList | undefined;
  random?: () => number;
  now?: () => Date;
}

const CHECKS = ['auth.spf', 'auth.dkim', 'auth.dmarc', 'auth.arc', 'auth.bimi'] as const;

/** RFC 8601 value token, or a quoted string. */
const token = (s: string) => (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.@]+$/.test(s) ? s : `"${s.replace(/[\\"\r\n]/g, '')}"`);

/**
 * Authenticated submission: our own user, sending from wherever they are, so inbound SPF and
 * DMARC say nothing useful about it (and would reject a laptop on a hotel network). Recorded as
 * skipped, with RFC 8601 auth= in the header.
 */
function submission(user: string, authservId: string, now: Date): { results: CheckResult[]; headers: string } {
  const reason = `authenticated submission by ${user}: inbound sender authentication does not apply`;
  return {
    results: CHECKS.map((c) => result('auth', c, 'skip', reason, 0, now)),
    headers: `Authentication-Results: ${authservId}; auth=pass smtp.auth=${token(user)}\r\n`,
  };
}

/** A client in authentication.trustedNetworks: our own host, so nothing is looked up or enforced (RFC 8601 "none"). */
function trustedClient(ip: string, network: string, authservId: string, now: Date): { results: CheckResult[]; headers: string } {
  const reason = `client ${ip} is in a trusted network (${network}): sender authentication not applied`;
  return {
    results: CHECKS.map((c) => result('auth', c, 'skip', reason, 0, now)),
    headers: `Authentication-Results: ${authservId}; none\r\n`,
  };
}

/** No verdict from the checks (timeout, unexpected failure): a temporary error, or on by configuration. */
function unverified(why: string, authservId: string, conf: Config['authentication'], now: Date): { results: CheckResult[]; headers: string } {
  const results = CHECKS.map((c) => result('auth', c, 'error', why, 0, now));
  if (conf.onTempError === 'tempfail') {
    results[0] = demand({ ...results[0]!, reason: `Temporary authentication failure, try again later: ${why}` }, 'tempfail', CODES.temp);
  } else {
    results[0] = { ...results[0]!, reason: `${why}; continued by configuration (onTempError: continue)` };
  }
  return { results, headers: `Authentication-Results: ${authservId}; spf=temperror; dkim=temperror; dmarc=temperror (${why})\r\n` };
}

/** The auth stage's work on one record: its results added, its message with our headers on top. */
export async function authenticateRecord(record: MailRecord, deps: RecordAuthDeps): Promise<MailRecord> {
  const conf = deps.config.authentication;
  const now = deps.now?.() ?? new Date();
  const authservId = conf.authservId ?? deps.config.hostname;
  const env = record.meta.envelope;
  if (!conf.enabled) {
    return { meta: { ...record.meta, results: [...record.meta.results, result('auth', 'auth.dmarc', 'skip', 'sender authentication disabled', 0, now)] }, raw: record.raw };
  }
  const stripped = stripForgedResults(record.raw, authservId);
  if (stripped.removed) {
    deps.metrics.forged.inc(stripped.removed);
    deps.logger.info({ messageId: record.meta.id, removed: stripped.removed }, 'removed Authentication-Results headers claiming our authserv-id');
  }
  let outcome: { results: CheckResult[]; headers: string };
  const trustedNetwork = env.auth ? null : (deps.trusted?.match(env.client.ip) ?? null);
  if (env.auth) {
    outcome = submission(env.auth.user, authservId, now);
  } else if (trustedNetwork) {
    outcome = trustedClient(env.client.ip, trustedNetwork, authservId, now);
  } else {
    try {
      const v = await verifyMessage(stripped.raw, env, {
        resolver: deps.resolver,
        authservId,
        dnsDeadlineMs: deps.config.dns.messageDeadlineMs,
        timeoutMs: conf.timeoutMs,
        minBitLength: conf.dkim.minBitLength,
        checkHelo: conf.spf.checkHelo,
        bimi: conf.bimi.enabled,
        seal: deps.seal,
      });
      const f = findings(v);
      outcome = { results: applyPolicy(f, { conf, now, random: deps.random ?? Math.random }), headers: f.headers };
    } catch (err) {
      const why = err instanceof VerifyTimeout ? err.message : 'authentication could not be completed';
      if (!(err instanceof VerifyTimeout)) deps.logger.error({ messageId: record.meta.id, error: (err as Error).message }, 'sender authentication failed');
      outcome = unverified(why, authservId, conf, now);
    }
  }
  for (const r of outcome.results) deps.metrics.results.inc({ check: r.check, outcome: r.outcome, action: r.action ?? 'none' });
  // A turn of the event loop between mailauth's last step and each of the two copies of the
  // message that follow (our headers on top, then the bus record): not one block of all of them.
  await laterTurn();
  const raw = prependHeaders(stripped.raw, outcome.headers);
  await laterTurn();
  return { meta: { ...record.meta, size: raw.length, results: [...record.meta.results, ...outcome.results] }, raw };
}
