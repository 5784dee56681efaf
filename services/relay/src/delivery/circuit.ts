import { randomBytes } from 'node:crypto';
import type { SharedState } from '@portcullis/state';
import type { Logger } from '@portcullis/telemetry';
import type { RecipientOutcome } from './smtp-delivery.js';

/** What a circuit is kept per: the mailbox server's address. */
export const destinationOf = (d: { host: string; port: number }) => `${d.host}:${d.port}`;

/** A reply that says nothing about the recipient but that the server is not there (or going away). */
export function isConnectionFailure(results: RecipientOutcome[]): boolean {
  return results.length > 0 && results.every((r) => r.status === 'temporary' && (r.code === undefined || r.code === 421));
}

/**
 * relay.circuit: a circuit breaker per destination, kept in the shared state so
 * that every relay replica backs off together and any replica's probe closes
 * it. After failureThreshold connection failures in a row the circuit opens for
 * openSeconds: the relay then does not try that destination at all (the
 * record waits in its partition, its retries are not spent). Afterwards one
 * delivery (the probe, claimed by one replica) is let through: success closes
 * the circuit, failure opens it again. Nothing to do by hand.
 */
export class CircuitBreaker {
  private readonly me = randomBytes(6).toString('hex');

  constructor(
    private readonly deps: {
      state: SharedState;
      options: { failureThreshold: number; openSeconds: number };
      logger: Logger;
      onOpen?: (destination: string) => void;
    },
  ) {}

  private keys(d: string) {
    return { open: `circuit:open:${d}`, failures: `circuit:fail:${d}`, probe: `circuit:probe:${d}` };
  }

  /** True when a delivery to the destination may be tried now. */
  async admit(destination: string): Promise<boolean> {
    const k = this.keys(destination);
    if (await this.deps.state.get(k.open)) return false;
    const failures = Number((await this.deps.state.get(k.failures)) ?? 0);
    if (failures < this.deps.options.failureThreshold) return true;
    // Half-open: one probe at a time across all replicas.
    return (await this.deps.state.claim(k.probe, this.me, this.deps.options.openSeconds)) === this.me;
  }

  async record(destination: string, results: RecipientOutcome[]): Promise<void> {
    const k = this.keys(destination);
    const { state, options } = this.deps;
    if (!isConnectionFailure(results)) {
      if (await state.del(k.failures)) this.deps.logger.info({ destination }, 'circuit closed');
      await state.del(k.probe);
      return;
    }
    const n = await state.incr(k.failures, options.openSeconds * 10, { refreshTtl: true });
    if (n >= options.failureThreshold) {
      await state.set(k.open, String(Date.now()), options.openSeconds);
      await state.del(k.probe);
      this.deps.logger.warn({ destination, failures: n, openSeconds: options.openSeconds }, 'circuit open: destination is not answering');
      this.deps.onOpen?.(destination);
    }
  }
}
