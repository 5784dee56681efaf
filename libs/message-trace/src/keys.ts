/** Where the message trace lives in the shared state; every key expires. */
export const TraceKeys = {
  summary: (id: string) => `trace:msg:${id}`,
  events: (id: string) => `trace:ev:${id}`,
  index: (field: IndexField, value: string) => `trace:ix:${field}:${value.toLowerCase()}`,
  /** One list of ids per hour of receipt, for searches by time alone. */
  hour: (at: Date) => `trace:ix:hour:${at.toISOString().slice(0, 13)}`,
};

export type IndexField = 'from' | 'rcpt' | 'ip' | 'mid';

/** What the operator searches by, stored once per message. */
export interface TraceSummary {
  /** Portcullis message id (or, for a transaction refused before DATA, an id of its own). */
  id: string;
  /** The Message-ID header, without angle brackets, when there was a message. */
  messageId?: string;
  from: string;
  rcpt: string[];
  clientIp: string;
  receivedAt: string;
  subject?: string;
  /** Where the message stands: accepted, delivered, retrying, bounced, quarantined, released, refused, dropped. */
  outcome: string;
  outcomeAt: string;
}

/** One decision of one stage. */
export interface TraceEvent {
  at: string;
  /** edge, auth, reputation, content, relay, quarantine */
  stage: string;
  /** What happened, e.g. "rcpt refused", "check", "verdict", "delivered", "retry scheduled". */
  event: string;
  /** pass/fail/..., an SMTP code, or an action. */
  outcome?: string;
  detail: string;
  recipient?: string;
}
