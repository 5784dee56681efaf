import { getDomain } from 'tldts';
import { domainOf, result, type CheckResult, type MailMeta, type VerdictAction } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';

type HistoryConfig = Config['reputation']['history'];

/** Decayed counts of past verdicts for one subject; t is when they were last decayed (epoch ms). */
export interface Counts {
  delivered: number;
  spam: number;
  rejected: number;
  t: number;
}

export type Outcome = 'delivered' | 'spam' | 'rejected';

/** What a verdict teaches: a tempfail teaches nothing (the message comes again). */
export function outcomeOf(action: VerdictAction): Outcome | null {
  return action === 'deliver' ? 'delivered' : action === 'quarantine' ? 'spam' : action === 'reject' ? 'rejected' : null;
}

/**
 * Who a message's history is kept for: its client address, and its sender domain when that was
 * authenticated (AUTH on submission, or an SPF/DMARC pass recorded by the auth stage). An
 * unauthenticated domain is not tracked: anyone can write it, and a spammer would spoil its history.
 */
export function historySubjects(meta: MailMeta, headerFromDomain: string | null): string[] {
  const subjects = [`ip:${meta.envelope.client.ip}`];
  const passed = (suffix: string) => meta.results.some((r) => r.stage === 'auth' && r.check.endsWith(suffix) && r.outcome === 'pass');
  const mailFromDomain = meta.envelope.mailFrom ? getDomain(domainOf(meta.envelope.mailFrom)) : null;
  const domain = meta.envelope.auth || passed('.spf') ? mailFromDomain : passed('.dmarc') ? headerFromDomain : null;
  if (domain) subjects.push(`domain:${domain}`);
  return subjects;
}

export function decayed(c: Counts, now: number, halfLifeDays: number): Counts {
  const f = Math.pow(0.5, Math.max(0, now - c.t) / (halfLifeDays * 86_400_000));
  return { delivered: c.delivered * f, spam: c.spam * f, rejected: c.rejected * f, t: now };
}

const key = (subject: string) => `history:${subject}`;

/**
 * Sender history in shared state: one small JSON value per subject, decayed when read or written,
 * forgotten expiryDays after its last message (so memory stays bounded by the senders of the last
 * expiryDays). The update is read-modify-write: two replicas recording for the same subject at the
 * same instant may lose one count, which a reputation average can afford (an atomic script would
 * need a SharedState extension for one approximate counter).
 */
export class SenderHistory {
  constructor(
    private readonly state: SharedState,
    private readonly config: HistoryConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async read(subject: string): Promise<Counts | null> {
    const held = await this.state.get(key(subject));
    return held ? decayed(JSON.parse(held) as Counts, this.now(), this.config.halfLifeDays) : null;
  }

  async record(subject: string, outcome: Outcome): Promise<void> {
    const now = this.now();
    const c = (await this.read(subject)) ?? { delivered: 0, spam: 0, rejected: 0, t: now };
    c[outcome] += 1;
    await this.state.set(key(subject), JSON.stringify(c), this.config.expiryDays * 86_400);
  }

  /** reputation.history: a new sender, a history of spam, or an established clean record. */
  score(subject: string, c: Counts | null, now = new Date()): CheckResult {
    const h = this.config;
    const total = c ? c.delivered + c.spam + c.rejected : 0;
    if (!c || total < h.minMessages) {
      return result('reputation', 'reputation.history', 'neutral', `${subject}: new sender (${total.toFixed(1)} messages seen)`, h.newSenderWeight, now);
    }
    const bad = (c.spam + c.rejected) / total;
    const summary = `${subject}: ${c.delivered.toFixed(1)} delivered, ${c.spam.toFixed(1)} spam, ${c.rejected.toFixed(1)} rejected`;
    if (bad < 0.1) return result('reputation', 'reputation.history', 'pass', summary, h.goodSenderWeight, now);
    return result('reputation', 'reputation.history', 'fail', summary, Math.round(bad * h.badRatioWeight * 100) / 100, now);
  }
}
