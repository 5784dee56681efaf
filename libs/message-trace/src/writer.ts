import { randomBytes } from 'node:crypto';
import type { SharedState } from '@portcullis/state';
import { Counter, type Logger, type Registry } from '@portcullis/telemetry';
import { TraceKeys, type IndexField, type TraceEvent, type TraceSummary } from './keys.js';

export interface TraceOptions {
  enabled: boolean;
  retentionDays: number;
  maxEventsPerMessage: number;
  maxIndexEntries: number;
}

/** Writes in flight beyond which new ones are dropped (and counted) rather than queued. */
const MAX_PENDING = 2000;

/**
 * The message trace's write side. Writing must never slow or fail mail: every
 * method returns at once, the writes run in the background, and a failure (or
 * a full backlog) is logged and counted, never thrown.
 */
export class MessageTraceWriter {
  private pending = 0;
  private readonly failures: Counter<'reason'>;
  private readonly ttl: number;

  constructor(private readonly deps: { state: SharedState; logger: Logger; registry: Registry; options: TraceOptions }) {
    const name = 'portcullis_message_trace_write_failures_total';
    this.failures =
      (deps.registry.getSingleMetric(name) as Counter<'reason'> | undefined) ??
      new Counter({ name, help: 'Message trace writes that failed or were dropped (mail is unaffected)', labelNames: ['reason'], registers: [deps.registry] });
    this.ttl = Math.ceil(deps.options.retentionDays * 24 * 3600);
  }

  /** Records the summary (searchable fields and where the message stands) and, with index, its index entries. */
  summary(s: TraceSummary, opts: { index?: boolean; skipIndex?: IndexField[] } = {}): void {
    this.run(async () => {
      const { state } = this.deps;
      await state.set(TraceKeys.summary(s.id), JSON.stringify(s), this.ttl);
      if (!opts.index) return;
      const max = this.deps.options.maxIndexEntries;
      const entries: [IndexField, string][] = [['from', s.from || '<>'], ['ip', s.clientIp], ...s.rcpt.map((r): [IndexField, string] => ['rcpt', r])];
      if (s.messageId) entries.push(['mid', s.messageId]);
      await Promise.all([
        ...entries.filter(([f]) => !opts.skipIndex?.includes(f)).map(([f, v]) => state.listPush(TraceKeys.index(f, v), s.id, max, this.ttl)),
        state.listPush(TraceKeys.hour(new Date(s.receivedAt)), s.id, max, this.ttl),
      ]);
    });
  }

  /** Appends events to a message's timeline; with once, only the first time (a record read again after a crash). */
  events(id: string, events: TraceEvent[], opts: { once?: string } = {}): void {
    if (events.length === 0) return;
    this.run(async () => {
      if (opts.once) {
        const me = randomBytes(6).toString('hex');
        if ((await this.deps.state.claim(`trace:once:${id}:${opts.once}`, me, this.ttl)) !== me) return;
      }
      await this.deps.state.listPush(
        TraceKeys.events(id),
        events.map((e) => JSON.stringify(e)),
        this.deps.options.maxEventsPerMessage,
        this.ttl,
      );
    });
  }

  /** Resolves when every write started so far has finished (tests, shutdown). */
  async flush(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  private run(write: () => Promise<void>): void {
    if (!this.deps.options.enabled) return;
    if (this.pending >= MAX_PENDING) {
      this.failures.inc({ reason: 'backlog' });
      return;
    }
    this.pending++;
    write()
      .catch((err: Error) => {
        this.failures.inc({ reason: 'store' });
        this.deps.logger.warn({ error: err.message }, 'message trace write failed');
      })
      .finally(() => this.pending--);
  }
}
