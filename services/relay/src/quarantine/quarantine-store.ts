import type { SharedState } from '@portcullis/state';

/** What the index knows of one quarantined message; the message itself stays in the quarantine topic. */
export interface QuarantineEntry {
  id: string;
  partition: number;
  offset: string;
  from: string;
  rcpt: string[];
  subject: string;
  reason: string;
  quarantinedAt: string;
  receivedAt: string;
  status: 'held' | 'released';
  releasedBy?: string;
  releasedAt?: string;
}

export interface QuarantineQuery {
  from?: string;
  rcpt?: string;
  /** Substring of the subject, case-insensitive. */
  subject?: string;
  /** Substring of the reason, case-insensitive. */
  reason?: string;
  since?: string;
  until?: string;
  limit?: number;
}

export interface AuditEntry {
  at: string;
  action: 'release' | 'delete';
  id: string;
  by: string;
}

const K = {
  entry: (id: string) => `quarantine:entry:${id}`,
  deleted: (id: string) => `quarantine:deleted:${id}`,
  all: 'quarantine:list',
  rcpt: (r: string) => `quarantine:rcpt:${r.toLowerCase()}`,
  audit: 'quarantine:audit',
  release: (id: string) => `quarantine:release:${id}`,
};

/**
 * relay.quarantine-store: the quarantine's index in the shared state
 * (metadata only, every key expiring with the quarantine period, lists capped
 * at maxEntries). The messages are in the quarantine topic, found by position.
 */
export class QuarantineStore {
  private readonly ttl: number;

  constructor(
    private readonly state: SharedState,
    private readonly opts: { retentionDays: number; maxEntries: number },
  ) {
    this.ttl = Math.ceil(opts.retentionDays * 24 * 3600);
  }

  /** Remaining lifetime of an entry quarantined at `at` (seconds, at least 1). */
  private ttlFrom(at: string): number {
    return Math.max(1, Math.ceil(this.ttl - (Date.now() - Date.parse(at)) / 1000));
  }

  /** True when the entry is new; false when the index already had it (or it was deleted). */
  async add(e: QuarantineEntry): Promise<boolean> {
    // A deleted message stays deleted when its record is indexed again (a reindex); one indexed
    // already is left alone (the claim below cannot tell: the same record gives the same entry).
    if ((await this.state.get(K.deleted(e.id))) || (await this.state.get(K.entry(e.id)))) return false;
    // A record indexed twice (re-read after a crash) keeps its first entry, released or not.
    const held = await this.state.claim(K.entry(e.id), JSON.stringify(e), this.ttlFrom(e.quarantinedAt));
    if (held !== JSON.stringify(e)) return false;
    await this.state.listPush(K.all, e.id, this.opts.maxEntries, this.ttl);
    await Promise.all(e.rcpt.map((r) => this.state.listPush(K.rcpt(r), e.id, Math.min(this.opts.maxEntries, 10_000), this.ttl)));
    return true;
  }

  async get(id: string): Promise<QuarantineEntry | null> {
    const raw = await this.state.get(K.entry(id));
    return raw ? (JSON.parse(raw) as QuarantineEntry) : null;
  }

  async update(e: QuarantineEntry): Promise<void> {
    await this.state.set(K.entry(e.id), JSON.stringify(e), this.ttlFrom(e.quarantinedAt));
  }

  /**
   * Claims the release of `id` (atomic in the shared state, so two operators releasing at once
   * release it once): null if this claim won, else who released it first and when.
   */
  async claimRelease(id: string, by: string, at: string): Promise<{ by: string; at: string } | null> {
    const mine = JSON.stringify({ by, at });
    const held = await this.state.claim(K.release(id), mine, this.ttl);
    return held === mine ? null : (JSON.parse(held) as { by: string; at: string });
  }

  /** Gives the claim back (the release could not be published), so the operator may try again. */
  async unclaimRelease(id: string): Promise<void> {
    await this.state.del(K.release(id));
  }

  async remove(id: string): Promise<boolean> {
    const entry = await this.get(id);
    if (!entry) return false;
    await this.state.set(K.deleted(id), '1', this.ttlFrom(entry.quarantinedAt));
    return this.state.del(K.entry(id));
  }

  async audit(a: AuditEntry): Promise<void> {
    await this.state.listPush(K.audit, JSON.stringify(a), 10_000, this.ttl);
  }

  async auditLog(max = 100): Promise<AuditEntry[]> {
    return (await this.state.listRange(K.audit, max)).map((a) => JSON.parse(a) as AuditEntry);
  }

  /** Newest first. A search by recipient reads that recipient's list; any other reads the newest entries. */
  async search(q: QuarantineQuery, scan = 5000): Promise<QuarantineEntry[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 50), 1000);
    const ids = [...new Set(await this.state.listRange(q.rcpt ? K.rcpt(q.rcpt) : K.all, scan))];
    const out: QuarantineEntry[] = [];
    for (let i = 0; i < ids.length && out.length < limit; i += 100) {
      const batch = await Promise.all(ids.slice(i, i + 100).map((id) => this.get(id)));
      for (const e of batch) if (e && matches(e, q) && out.length < limit) out.push(e);
    }
    return out;
  }
}

function matches(e: QuarantineEntry, q: QuarantineQuery): boolean {
  const has = (hay: string, needle?: string) => !needle || hay.toLowerCase().includes(needle.toLowerCase());
  if (q.from && e.from.toLowerCase() !== q.from.toLowerCase()) return false;
  if (q.rcpt && !e.rcpt.some((r) => r.toLowerCase() === q.rcpt!.toLowerCase())) return false;
  if (!has(e.subject, q.subject) || !has(e.reason, q.reason)) return false;
  if (q.since && e.quarantinedAt < new Date(q.since).toISOString()) return false;
  if (q.until && e.quarantinedAt > new Date(q.until).toISOString()) return false;
  return true;
}
