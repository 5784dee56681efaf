import type { SMTPServerSession } from 'smtp-server';
import { startSpan, endSpan, SpanKind } from '@portcullis/telemetry';

/**
 * Refusals before DATA (connect, MAIL, RCPT) are most of the answers to "why
 * was this rejected?", so each one is a short trace of its own with the reply
 * and the reason. Client addresses are attributes; recipient addresses are not.
 */
export function traceRefusal(command: string, session: SMTPServerSession, reply: { code: number; enhanced: string; text: string }, rule?: string): void {
  const span = startSpan(`smtp ${command}`, SpanKind.SERVER, undefined, {
    'client.address': session.remoteAddress,
    'smtp.reply_code': reply.code,
    'smtp.enhanced_code': reply.enhanced,
    'portcullis.reason': reply.text,
    ...(rule ? { 'portcullis.rule': rule } : {}),
  });
  endSpan(span, new Error(`${reply.code} ${reply.enhanced} ${reply.text}`));
}
