import { createHmac, randomBytes } from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Logger } from '@portcullis/telemetry';
import { plausibleCredentials, Semaphore, type CredentialBackend, type LoginOutcome } from './credential-source.js';
import { normalizeAllowedEntry } from '../mail/sender-identity.js';

export interface PassthroughOptions {
  /** The mailbox server's submission service. */
  host: string;
  port: number;
  /**
   * 'starttls' (port 587: STARTTLS is required, a server that does not offer it
   * is 'unavailable') or 'implicit' (port 465). There is no plaintext mode:
   * credentials are never sent unencrypted, not even on a cluster network.
   */
  tls: 'starttls' | 'implicit';
  /** Check the server's certificate and name. Default true. */
  verifyCertificate?: boolean;
  /** PEM CA certificate(s) for a mailbox server with a private CA; default the system store. */
  ca?: string | Buffer;
  /** Name to verify (and send as SNI) when `host` is an IP address or differs from the certificate. */
  servername?: string;
  /** Total time one check may take, including waiting for a probe slot. Default 10 000 ms. */
  timeoutMs?: number;
  /** How long a success is remembered. 0 disables the cache. Default 60 000 ms. */
  cacheTtlMs?: number;
  /** Most successes remembered; the oldest is dropped first. Default 10 000. */
  cacheMaxEntries?: number;
  /** Probe connections open at once; further checks wait (within timeoutMs). Default 8. */
  maxConcurrent?: number;
  /** Checks that may wait for a slot; beyond that, 'unavailable' at once. Default 1000. */
  maxWaiting?: number;
  /** Extra sender addresses / "@domain" entries for a user, besides the username itself. */
  addressesFor?: (user: string) => string[];
  /** Name sent in EHLO. Default the host name. */
  clientName?: string;
  logger: Logger;
}

interface CacheEntry {
  user: string;
  expires: number;
}

/**
 * Checks credentials by logging in to the mailbox server's submission port
 * (the same credentials users already have), then QUIT. Nothing is sent.
 *
 * - 235 → ok; 535 (or enhanced 5.7.8) → 'invalid'.
 * - Refused connection, DNS failure, timeout, TLS failure, no STARTTLS,
 *   no AUTH offered, any 4xx, and any other 5xx → 'unavailable' (454 4.7.0
 *   to the client): a reply we do not understand must not become a
 *   permanent "wrong password" nor, of course, a pass.
 *
 * Successes are cached for cacheTtlMs under HMAC-SHA256(per-process random
 * key, username NUL password): the cache holds neither the password nor an
 * unsalted hash of it, and the key never leaves the process. Failures are not
 * cached (a user who just fixed a password must not wait; limiting guesses is
 * the edge's job). Concurrent checks of the same credentials share one probe.
 */
export class PassthroughCredentialSource implements CredentialBackend {
  private readonly key = randomBytes(32);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<LoginOutcome>>();
  private readonly slots: Semaphore;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  /** Probe connections opened so far (for metrics and tests). */
  probes = 0;

  constructor(private readonly opts: PassthroughOptions) {
    if (opts.tls !== 'starttls' && opts.tls !== 'implicit') throw new Error(`pass-through auth: tls must be 'starttls' or 'implicit'`);
    this.slots = new Semaphore(opts.maxConcurrent ?? 8, opts.maxWaiting ?? 1000);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.ttlMs = opts.cacheTtlMs ?? 60_000;
    this.maxEntries = opts.cacheMaxEntries ?? 10_000;
    if (opts.verifyCertificate === false) {
      opts.logger.warn({ server: `${opts.host}:${opts.port}` }, 'pass-through auth: the mailbox server certificate is not verified');
    }
  }

  async verify(username: string, password: string): Promise<LoginOutcome> {
    if (!plausibleCredentials(username, password)) return { ok: false, reason: 'invalid' };
    const digest = this.digest(username, password);
    const cached = this.cacheGet(digest);
    if (cached) return { ok: true, user: cached };
    const running = this.inflight.get(digest);
    if (running) return running;
    const p = this.probe(username, password).then((outcome) => {
      if (outcome.ok) this.cacheSet(digest, outcome.user);
      return outcome;
    });
    this.inflight.set(digest, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(digest);
    }
  }

  /** The username itself when it is an address, plus the configured extras. */
  addressesFor(user: string): string[] {
    const out: string[] = [];
    const add = (entry: string): void => {
      const norm = normalizeAllowedEntry(entry);
      if (norm && !out.includes(norm)) out.push(norm);
    };
    // The username grants its own address only, never a domain ("@example.test" as a username).
    if (!user.startsWith('@') && user.trim() === user) add(user);
    for (const extra of this.opts.addressesFor?.(user) ?? []) add(extra);
    return out;
  }

  /** Drops every cached success (e.g. after a password change was reported). */
  clearCache(): void {
    this.cache.clear();
  }

  /** What the cache holds: digests (hex) and usernames, for tests and diagnostics. */
  cacheEntries(): Array<{ digest: string; user: string; expires: number }> {
    return [...this.cache].map(([digest, e]) => ({ digest, user: e.user, expires: e.expires }));
  }

  close(): void {
    this.cache.clear();
  }

  private digest(username: string, password: string): string {
    return createHmac('sha256', this.key).update(username, 'utf8').update('\0').update(password, 'utf8').digest('hex');
  }

  private cacheGet(digest: string): string | undefined {
    const e = this.cache.get(digest);
    if (!e) return undefined;
    if (e.expires <= Date.now()) {
      this.cache.delete(digest);
      return undefined;
    }
    return e.user;
  }

  private cacheSet(digest: string, user: string): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.cache.delete(digest); // re-insert at the young end
    this.cache.set(digest, { user, expires: Date.now() + this.ttlMs });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }

  private async probe(username: string, password: string): Promise<LoginOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    const release = await this.slots.acquire(this.timeoutMs);
    if (!release) return unavailable('too many pass-through checks waiting, or none finished in time');
    const left = deadline - Date.now();
    if (left <= 0) {
      release();
      return unavailable('timed out waiting for a pass-through slot');
    }
    let probe: { outcome: Promise<LoginOutcome>; closed: Promise<void> };
    try {
      probe = this.login(username, password, left);
    } catch (err) {
      release();
      return unavailable(`cannot start a pass-through check: ${(err as Error).message}`);
    }
    const outcome = await probe.outcome.catch((err: Error) => unavailable(`pass-through check failed: ${err.message}`));
    // The slot is a connection: hand it on only once the socket is gone (QUIT
    // answered), or after a short grace if the server dawdles.
    const grace = setTimeout(release, 2000);
    grace.unref();
    void probe.closed.then(() => {
      clearTimeout(grace);
      release();
    });
    return outcome;
  }

  private login(username: string, password: string, timeoutMs: number): { outcome: Promise<LoginOutcome>; closed: Promise<void> } {
    const { host, port, tls, logger } = this.opts;
    const where = `${host}:${port}`;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const outcome = new Promise<LoginOutcome>((resolve) => {
      let settled = false;
      const conn = new SMTPConnection({
        host,
        port,
        secure: tls === 'implicit',
        requireTLS: tls === 'starttls',
        ignoreTLS: false,
        opportunisticTLS: false,
        name: this.opts.clientName,
        servername: this.opts.servername,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        dnsTimeout: timeoutMs,
        socketCloseTimeout: 1000,
        logger: false,
        debug: false,
        transactionLog: false,
        tls: {
          rejectUnauthorized: this.opts.verifyCertificate ?? true,
          minVersion: 'TLSv1.2',
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
          ...(this.opts.servername ? { servername: this.opts.servername } : {}),
        },
      });
      this.probes++;
      const finish = (result: LoginOutcome, quit: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!result.ok && result.reason === 'unavailable') {
          logger.warn({ server: where, detail: result.detail }, 'pass-through auth: mailbox server unavailable');
        }
        try {
          if (quit && !conn.destroyed) conn.quit();
          else conn.close();
        } catch {
          /* already gone */
        }
        resolve(result);
      };
      // Overall deadline: nodemailer's timeouts are per phase, ours is per check.
      const timer = setTimeout(() => finish(unavailable(`timed out after ${timeoutMs} ms talking to ${where}`), false), timeoutMs);
      conn.on('error', (err: Error & { code?: string; responseCode?: number }) => {
        finish(unavailable(describe(err, where)), false);
      });
      conn.on('end', () => {
        markClosed();
        finish(unavailable(`${where} closed the connection`), false);
      });
      conn.connect((err) => {
        if (err) return finish(unavailable(describe(err, where)), false);
        if (!conn.secure) return finish(unavailable(`${where}: connection is not encrypted`), false);
        if (!conn.allowsAuth) return finish(unavailable(`${where} does not offer AUTH`), true);
        conn.login({ user: username, pass: password }, (loginErr) => {
          if (!loginErr) return finish({ ok: true, user: username }, true);
          const code = loginErr.responseCode;
          const response = typeof loginErr.response === 'string' ? loginErr.response : '';
          if (code === 535 || (code !== undefined && code >= 500 && /^\d{3}[ -]5\.7\.8\b/.test(response))) {
            return finish({ ok: false, reason: 'invalid' }, true);
          }
          // Only the codes: the server's text may echo what was typed as the user name.
          const enhanced = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1];
          finish(unavailable(`${where} answered AUTH with ${code ?? 'no reply code'}${enhanced ? ` ${enhanced}` : ''}`), true);
        });
      });
    });
    return { outcome, closed };
  }
}

function unavailable(detail: string): LoginOutcome {
  return { ok: false, reason: 'unavailable', detail };
}

/**
 * An operator-facing description of a failure. It names codes and the
 * server's reply (which never echoes a password: AUTH payloads are ours, not
 * the server's), never the credentials.
 */
function describe(err: Error & { code?: unknown; originalCode?: unknown; responseCode?: unknown; response?: unknown }, where: string): string {
  const parts = [where];
  if (typeof err.code === 'string') parts.push(err.code);
  if (typeof err.originalCode === 'string') parts.push(err.originalCode);
  if (typeof err.response === 'string') parts.push(JSON.stringify(err.response.slice(0, 200)));
  else parts.push(err.message.slice(0, 200));
  return parts.join(' ');
}
