import type { Config } from '@portcullis/config';
import { domainOf } from '@portcullis/contract';
import type { SharedState } from '@portcullis/state';
import { rcpt, type Refusal } from '@portcullis/smtp-replies';
import { Semaphore } from '../login/credential-source.js';
import { probeRecipient, type ProbeTarget } from './smtp-probe.js';

export interface VerifyOptions {
  positiveTtlSeconds: number;
  negativeTtlSeconds: number;
  timeoutMs: number;
}

export type VerifyOutcome = 'exists' | 'unknown' | 'tempfail';

/**
 * The address comes normalised from rcpt.ts (domain lower-cased, the local part folded only where
 * its domain says so): folding it again here would let Bob@ borrow bob@'s answer on a mailbox
 * server for which they are two mailboxes.
 */
const key = (address: string) => `rcptverify:${address}`;

/**
 * rcpt.verify: asks the mailbox server whether a recipient exists before we
 * accept mail for it, so unknown users are refused in the session (550 5.1.1)
 * instead of bouncing later to a forged sender. Answers are cached in shared
 * state, positive ones longer than negative ones (a new mailbox should work
 * soon). A server that cannot answer means 451, never a guess.
 */
export class RecipientVerifier {
  private readonly slots: Semaphore;

  constructor(
    private readonly state: SharedState,
    private readonly opts: { helo: string; maxConcurrent: number },
  ) {
    this.slots = new Semaphore(opts.maxConcurrent, 1000);
  }

  async verify(address: string, target: ProbeTarget, o: VerifyOptions): Promise<VerifyOutcome> {
    const cached = await this.state.get(key(address)).catch(() => null);
    if (cached === 'exists' || cached === 'unknown') return cached;
    const release = await this.slots.acquire(o.timeoutMs);
    if (!release) return 'tempfail';
    let outcome: VerifyOutcome;
    try {
      const reply = await probeRecipient(target, address, { helo: this.opts.helo, timeoutMs: o.timeoutMs });
      outcome = classify(reply.code, reply.text);
    } catch {
      outcome = 'tempfail';
    } finally {
      release();
    }
    if (outcome !== 'tempfail') {
      const ttl = outcome === 'exists' ? o.positiveTtlSeconds : o.negativeTtlSeconds;
      await this.state.set(key(address), outcome, ttl).catch(() => undefined);
    }
    return outcome;
  }
}

/** The refusal for what the mailbox server said (null: the recipient exists). */
export function verifyReply(outcome: VerifyOutcome, address: string): Refusal | null {
  switch (outcome) {
    case 'exists':
      return null;
    case 'unknown':
      return rcpt.unknown.refuse(address);
    case 'tempfail':
      return rcpt.cannotVerify.refuse(address);
  }
}

/** 250/251: exists. 550, 551, 553 or any 5.1.x: no such user. Anything else (4xx, policy 5xx): ask again later. */
export function classify(code: number, text: string): VerifyOutcome {
  if (code === 250 || code === 251) return 'exists';
  if (code === 550 || code === 551 || code === 553 || (code >= 500 && /^\d{3}[ -]5\.1\.\d/.test(text))) return 'unknown';
  return 'tempfail';
}

/** rcpt.verify as the edge runs it: only for domains whose config asks for it (null: accepted). */
export function configuredVerification(config: Config, state: SharedState): (address: string) => Promise<Refusal | null> {
  const verifier = new RecipientVerifier(state, { helo: config.hostname, maxConcurrent: 16 });
  const domains = new Map(config.domains.map((d) => [d.name, d]));
  return async (address) => {
    const d = domains.get(domainOf(address));
    if (!d?.verifyRecipients?.enabled || !d.downstream) return null;
    return verifyReply(await verifier.verify(address, d.downstream, d.verifyRecipients), address);
  };
}
