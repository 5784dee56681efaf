import type { MailMeta } from '@portcullis/contract';
import { claimFate, readFate, type SharedState } from '@portcullis/state';

export type GateDecision =
  | { action: 'deliver' }
  | { action: 'quarantine'; reason: string }
  | { action: 'drop'; reason: string }
  /** The edge may still be answering the sender: look again at this instant. */
  | { action: 'wait'; until: number };

/** Slack after the edge's deadline for its fate claim to land. */
export const FATE_GRACE_MS = 5_000;

/**
 * relay.gate: what the relay may do with a decided record, given what the
 * sender was told (the fate). The relay must never deliver mail whose sender
 * heard 451 (they will send it again) or 550, and must keep (quarantine) a
 * reject the sender never heard about.
 */
export async function gate(meta: MailMeta & { verdict: NonNullable<MailMeta['verdict']> }, state: SharedState, now = Date.now()): Promise<GateDecision> {
  const fate = await readFate(state, meta.id);
  if (fate === 'tempfailed') return { action: 'drop', reason: 'the sender was told to try again (451)' };
  if (fate === 'rejected') return { action: 'drop', reason: 'the sender was refused in session (550)' };
  switch (meta.verdict.action) {
    case 'deliver':
      return { action: 'deliver' };
    case 'quarantine':
      return { action: 'quarantine', reason: meta.verdict.reason };
    case 'reject':
    case 'tempfail': {
      if (fate === null && meta.replyTo) {
        const until = Date.parse(meta.replyTo.deadline) + FATE_GRACE_MS;
        if (now < until) return { action: 'wait', until };
      }
      // The edge accepted it (or died without answering): keep it for the operator.
      const claimed = await claimFate(state, meta.id, 'quarantined');
      if (claimed === 'rejected' || claimed === 'tempfailed') return { action: 'drop', reason: `sender was told ${claimed}` };
      return { action: 'quarantine', reason: `late ${meta.verdict.action}: ${meta.verdict.reason}` };
    }
  }
}
