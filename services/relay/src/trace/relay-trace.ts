import type { MailMeta } from '@portcullis/contract';
import type { MessageTraceWriter, TraceEvent, TraceSummary } from '@portcullis/message-trace';
import { messageIdOf, subjectOf } from '../retry/bounce.js';
import type { RecipientOutcome } from '../delivery/smtp-delivery.js';

/**
 * relay.trace: what the relay writes to the message trace. When a record first
 * reaches the relay, the stages before it have already written their findings
 * into the record (results, verdict): the relay copies them into the timeline,
 * so the auth, reputation and content services need not write the trace.
 */
export class RelayTrace {
  constructor(private readonly writer: MessageTraceWriter) {}

  summary(meta: MailMeta, raw: Buffer, outcome: string, opts: { index?: boolean } = {}): void {
    const s: TraceSummary = {
      id: meta.id,
      from: meta.envelope.mailFrom,
      rcpt: meta.envelope.rcptTo,
      clientIp: meta.envelope.client.ip,
      receivedAt: meta.envelope.receivedAt,
      outcome,
      outcomeAt: new Date().toISOString(),
    };
    const mid = messageIdOf(raw);
    const subject = subjectOf(raw);
    if (mid) s.messageId = mid;
    if (subject) s.subject = subject;
    this.writer.summary(s, opts);
  }

  /** The record's history up to the verdict: received, each check, the verdict. */
  firstSeen(meta: MailMeta, raw: Buffer): void {
    const e = meta.envelope;
    const events: TraceEvent[] = [
      {
        at: e.receivedAt,
        stage: 'edge',
        event: 'accepted',
        outcome: '250',
        detail: `from ${e.client.ip} (${e.helo}) on ${e.listener}, ${meta.size} octets${e.tls ? `, ${e.tls.version}` : ''}`,
      },
      ...meta.results.map((r): TraceEvent => ({ at: r.at, stage: r.stage, event: r.check, outcome: r.action ?? r.outcome, detail: r.reason })),
    ];
    if (meta.verdict)
      events.push({
        at: meta.verdict.at,
        stage: 'content',
        event: 'verdict',
        outcome: meta.verdict.action,
        detail: `${meta.verdict.reason} (by ${meta.verdict.decidedBy}, score ${meta.verdict.score})`,
      });
    this.summary(meta, raw, 'accepted', { index: true });
    this.writer.events(meta.id, events, { once: 'first-seen' });
  }

  event(id: string, event: string, detail: string, extra: Partial<TraceEvent> = {}): void {
    this.writer.events(id, [{ at: new Date().toISOString(), stage: 'relay', event, detail, ...extra }]);
  }

  outcomes(id: string, results: RecipientOutcome[]): void {
    this.writer.events(
      id,
      results.map((r) => ({
        at: new Date().toISOString(),
        stage: 'relay',
        event: r.status === 'delivered' ? 'delivered' : r.status === 'temporary' && r.circuitOpen ? 'held (circuit open)' : `${r.status} failure`,
        outcome: r.status === 'delivered' ? '250' : String(r.code ?? 'none'),
        detail: r.response,
        recipient: r.recipient,
      })),
    );
  }
}

/** Where a message stands after an attempt, for the trace summary. */
export function standing(results: RecipientOutcome[], retrying: boolean): string {
  const delivered = results.filter((r) => r.status === 'delivered').length;
  const failed = results.filter((r) => r.status === 'permanent').length;
  if (retrying) return delivered || failed ? 'partly delivered, retrying' : 'retrying';
  if (failed === 0) return 'delivered';
  return delivered ? 'partly delivered, bounced' : 'bounced';
}
