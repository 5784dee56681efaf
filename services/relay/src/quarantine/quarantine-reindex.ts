import { Topics } from '@portcullis/contract';
import type { Bus } from '@portcullis/bus';
import type { Logger } from '@portcullis/telemetry';
import { readEntry } from './quarantine.js';
import type { QuarantineEntry, QuarantineStore } from './quarantine-store.js';

export interface ReindexReport {
  /** Records read from the quarantine topic (all partitions, everything it still keeps). */
  read: number;
  /** Entries the index did not have and now has. */
  added: number;
  /** Entries it already had (or that an operator deleted): left as they were. */
  kept: number;
  unreadable: number;
}

/** Records per read: a bound on memory and on each wait, not on the whole rebuild. */
const PAGE = 500;

/**
 * relay.quarantine-reindex: rebuilds the quarantine index in Redis from the quarantine topic, its
 * source of truth (e.g. after Redis restarted without persistence and the list came back empty).
 * Idempotent: an entry the index has is kept as it is (released stays released), a deleted one
 * stays deleted; only what is missing is added, oldest first, so the list reads newest first.
 */
export async function reindexQuarantine(deps: { bus: Bus; store: QuarantineStore; logger: Logger }): Promise<ReindexReport> {
  const report: ReindexReport = { read: 0, added: 0, kept: 0, unreadable: 0 };
  const entries: QuarantineEntry[] = [];
  for (const p of await deps.bus.offsets(Topics.quarantine)) {
    let from = BigInt(p.low);
    while (from < BigInt(p.high)) {
      const page = await deps.bus.read(Topics.quarantine, { partition: p.partition, from: String(from), limit: PAGE, timeoutMs: 60_000 });
      // Nothing came back before the end: the broker did not answer in time; say so rather than report a partial rebuild as whole.
      if (page.length === 0) throw new Error(`quarantine topic partition ${p.partition}: nothing read at offset ${from} (of ${p.high}); try again`);
      for (const rec of page) {
        report.read++;
        const entry = readEntry(rec, deps.logger);
        if (entry) entries.push(entry);
        else report.unreadable++;
      }
      from = BigInt(page[page.length - 1]!.offset) + 1n;
    }
  }
  entries.sort((a, b) => a.quarantinedAt.localeCompare(b.quarantinedAt));
  for (const e of entries) {
    if (await deps.store.add(e)) report.added++;
    else report.kept++;
  }
  deps.logger.warn({ ...report }, 'quarantine index rebuilt from the quarantine topic');
  return report;
}
