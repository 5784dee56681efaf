import type { SharedState } from '@portcullis/state';
import { TraceKeys, type TraceEvent, type TraceSummary } from './keys.js';

export interface TraceQuery {
  id?: string;
  /** Message-ID header, with or without angle brackets. */
  messageId?: string;
  from?: string;
  rcpt?: string;
  ip?: string;
  /** ISO times bounding receivedAt. */
  since?: string;
  until?: string;
  limit?: number;
}

const HOUR = 3600_000;
/** Hours a search by time alone walks back at most (the default retention is 7 days). */
const MAX_HOURS = 24 * 90;

export const stripBrackets = (mid: string) => mid.trim().replace(/^<|>$/g, '');

/** The message trace's read side: a message's timeline, and searches over the capped indexes. */
export class MessageTraceReader {
  constructor(private readonly state: SharedState) {}

  async timeline(id: string): Promise<{ summary: TraceSummary | null; events: TraceEvent[] } | null> {
    const [raw, events] = await Promise.all([this.state.get(TraceKeys.summary(id)), this.state.listRange(TraceKeys.events(id), 10_000)]);
    if (!raw && events.length === 0) return null;
    const parsed = events.map((e) => JSON.parse(e) as TraceEvent).reverse();
    parsed.sort((a, b) => a.at.localeCompare(b.at));
    return { summary: raw ? (JSON.parse(raw) as TraceSummary) : null, events: parsed };
  }

  async search(q: TraceQuery): Promise<TraceSummary[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 50), 1000);
    const ids = q.id ? [q.id] : await this.candidates(q, limit);
    const out: TraceSummary[] = [];
    for (const id of new Set(ids)) {
      const raw = await this.state.get(TraceKeys.summary(id));
      if (!raw) continue;
      const s = JSON.parse(raw) as TraceSummary;
      if (matches(s, q)) out.push(s);
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  }

  /** Ids from the most specific index the query names, else from the hourly lists, newest first. */
  private async candidates(q: TraceQuery, limit: number): Promise<string[]> {
    const scan = Math.max(limit * 20, 1000);
    if (q.messageId) return this.state.listRange(TraceKeys.index('mid', stripBrackets(q.messageId)), scan);
    if (q.rcpt) return this.state.listRange(TraceKeys.index('rcpt', q.rcpt), scan);
    if (q.from) return this.state.listRange(TraceKeys.index('from', q.from), scan);
    if (q.ip) return this.state.listRange(TraceKeys.index('ip', q.ip), scan);
    const until = q.until ? Date.parse(q.until) : Date.now();
    const since = q.since ? Date.parse(q.since) : until - 24 * HOUR;
    const ids: string[] = [];
    for (let t = until, n = 0; t >= since - HOUR && n < MAX_HOURS && ids.length < scan; t -= HOUR, n++) {
      ids.push(...(await this.state.listRange(TraceKeys.hour(new Date(t)), scan - ids.length)));
    }
    return ids;
  }
}

function matches(s: TraceSummary, q: TraceQuery): boolean {
  const eq = (a: string | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();
  if (q.from && !eq(s.from || '<>', q.from)) return false;
  if (q.rcpt && !s.rcpt.some((r) => eq(r, q.rcpt!))) return false;
  if (q.ip && s.clientIp !== q.ip) return false;
  if (q.messageId && !eq(s.messageId, stripBrackets(q.messageId))) return false;
  if (q.since && s.receivedAt < new Date(q.since).toISOString()) return false;
  if (q.until && s.receivedAt > new Date(q.until).toISOString()) return false;
  return true;
}
