import type { Refusal } from './refusal.js';

/** An SMTP reply: basic code (RFC 5321), enhanced status code (RFC 3463, registry RFC 5248), text. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

/** The stage of the SMTP session a reply belongs to; one catalogue file per stage. */
export type Stage = 'connect' | 'login' | 'mail' | 'rcpt' | 'data' | 'verdict' | 'session';

/** Who writes the line: the edge itself, or smtp-server with its own text and our code. */
export type Writer = 'edge' | 'smtp-server';

/** One reply of the catalogue. `A` are the arguments its text names (none for a fixed text). */
export interface ReplyEntry<A extends readonly unknown[] = readonly unknown[]> {
  /** Short and stable: `<stage>.<what>`, e.g. "rcpt.relay-denied". Logs, metrics and docs use it. */
  readonly id: string;
  readonly stage: Stage;
  /** Basic code, RFC 5321 4.2. */
  readonly code: number;
  /** Enhanced status code, RFC 3463 (registry: RFC 5248). */
  readonly enhanced: string;
  /** The text after the codes, exactly as sent. */
  readonly text: string | ((...args: A) => string);
  /** Arguments for a text that takes some: what docs and tests render. */
  readonly example: A | null;
  /** The edge functions that send it, as named in services/edge. */
  readonly checks: readonly string[];
  /** After this reply the connection is closed (every 421 is, RFC 5321 3.8). */
  readonly disconnect: boolean;
  readonly writer: Writer;
  /** The reply with its text filled in. */
  reply(...args: A): SmtpReply;
  /** A refusal carrying this reply; its reason is the id until `because()` names a finer one. */
  refuse(...args: A): Refusal;
}

/** Any entry, whatever its arguments (for lists and look-ups). */
export type AnyReplyEntry = Omit<ReplyEntry, 'reply' | 'refuse' | 'text' | 'example'> & {
  readonly text: string | ((...args: never) => string);
  readonly example: readonly unknown[] | null;
  reply(...args: never): SmtpReply;
  refuse(...args: never): Refusal;
};

export type ReplySpec<A extends readonly unknown[]> = ReplySpecBase &
  (
    | { text: string; example?: never }
    /** A text that names things takes them as arguments; `example` is a set of them for docs and tests. */
    | { text: (...args: A) => string; example: NoInfer<A> }
  );

interface ReplySpecBase {
  id: `${Stage}.${string}`;
  code: number;
  enhanced: string;
  checks: string | readonly string[];
  /** Default: true for a 421, false otherwise. */
  disconnect?: boolean;
  /** Default: "edge". */
  writer?: Writer;
}

/** The text of an entry: itself, or rendered with the entry's example arguments. */
export function exampleText(entry: AnyReplyEntry): string {
  if (typeof entry.text === 'string') return entry.text;
  return (entry.text as (...args: readonly unknown[]) => string)(...(entry.example ?? []));
}

/** The line as it goes on the wire (without CRLF): "550 5.7.1 Relay access denied for <x@y>". */
export function formatReply(reply: SmtpReply): string {
  return `${reply.code} ${reply.enhanced} ${reply.text}`;
}

/** Defines a catalogue entry; the stage is the part of the id before the dot. */
export function defineReply<A extends readonly unknown[] = []>(spec: ReplySpec<A>): ReplyEntry<A> {
  const stage = spec.id.slice(0, spec.id.indexOf('.')) as Stage;
  const checks = typeof spec.checks === 'string' ? [spec.checks] : spec.checks;
  const disconnect = spec.disconnect ?? spec.code === 421;
  const text = spec.text;
  const reply = (...args: A): SmtpReply => ({
    code: spec.code,
    enhanced: spec.enhanced,
    text: typeof text === 'string' ? text : text(...args),
  });
  return Object.freeze({
    id: spec.id,
    stage,
    code: spec.code,
    enhanced: spec.enhanced,
    text,
    example: spec.example ? (Object.freeze([...spec.example]) as unknown as A) : null,
    checks: Object.freeze([...checks]),
    disconnect,
    writer: spec.writer ?? 'edge',
    reply,
    refuse: (...args: A): Refusal => ({ id: spec.id, reply: reply(...args), reason: spec.id, disconnect }),
  });
}
