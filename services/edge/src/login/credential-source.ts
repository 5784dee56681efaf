/**
 * Credential checking for SMTP AUTH on the submission ports.
 *
 * A source answers one question: do this username and password belong
 * together? The caller (the edge's onAuth) maps the outcome to a reply:
 *   ok                       → 235 2.7.0, session.user = outcome.user
 *   { reason: 'invalid' }     → 535 5.7.8 (wrong username or password; the
 *                                reply must not say which)
 *   { reason: 'unavailable' } → 454 4.7.0 (the source could not answer: the
 *                                client should try again later). `detail` is
 *                                for the operator's log, never for the client.
 *
 * Neither the password nor anything derived from it is ever part of an
 * outcome, and sources never log it.
 */
export type LoginOutcome = { ok: true; user: string } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'unavailable'; detail: string };

export interface CredentialSource {
  verify(username: string, password: string): Promise<LoginOutcome>;
}

/**
 * A credential source that also knows which sender addresses each user may
 * use (MAIL FROM and the From header). Entries are full addresses
 * ("alice@example.test") or "@domain" for any address in that domain; see
 * checkSender in sender-identity.ts.
 */
export interface CredentialBackend extends CredentialSource {
  /** `user` is the `user` of a successful outcome. Unknown users own nothing. */
  addressesFor(user: string): string[];
  /** Stops timers and watchers; pending verifications still settle. */
  close(): void;
}

/**
 * Anything a client may send as a username or password that a source refuses
 * before doing any work: empty values, NUL (it is the field separator of
 * SASL PLAIN, so a NUL inside a value would let one client's credentials be
 * read differently by a downstream server), CR and LF, and absurd lengths.
 */
export function plausibleCredentials(username: string, password: string): boolean {
  if (username.length === 0 || password.length === 0) return false;
  if (username.length > 512 || password.length > 1024) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\x00\r\n]/.test(username) && !/[\x00\r\n]/.test(password);
}

/**
 * A counting semaphore with a bounded wait queue. `acquire` resolves to a
 * release function, or to undefined when the queue is full or the wait took
 * longer than `timeoutMs` (the caller then answers 'unavailable').
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<{ grant: (release: () => void) => void }> = [];

  constructor(
    readonly max: number,
    readonly maxQueue: number = 1000,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Semaphore max must be a positive integer, got ${max}`);
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(timeoutMs: number): Promise<(() => void) | undefined> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = {
        grant: (release: () => void) => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(undefined);
        },
        Math.max(0, timeoutMs),
      );
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next)
        next.grant(this.releaser()); // the slot passes straight on: `active` is unchanged
      else this.active--;
    };
  }
}
