import type { SharedState } from './state.js';

/**
 * What the sender was told about a message, decided once by whoever gets
 * there first. The edge claims it when it answers; the relay claims
 * "quarantined" for a reject it sees after the edge's deadline. Because the
 * claim is atomic, the sender is told 550 only for mail that will not be
 * delivered, and 250 only for mail that will be (or is quarantined).
 */
export type Fate = 'accepted' | 'rejected' | 'tempfailed' | 'quarantined';

/** Long enough to outlive every retry of a record; mail older than this is not re-decided. */
export const FATE_TTL_SECONDS = 7 * 24 * 3600;

const key = (messageId: string) => `fate:${messageId}`;

export async function claimFate(state: SharedState, messageId: string, fate: Fate): Promise<Fate> {
  return (await state.claim(key(messageId), fate, FATE_TTL_SECONDS)) as Fate;
}

export async function readFate(state: SharedState, messageId: string): Promise<Fate | null> {
  return (await state.get(key(messageId))) as Fate | null;
}
