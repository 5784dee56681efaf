import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Bus } from '@portcullis/bus';
import type { SharedState } from '@portcullis/state';
import { Replies, smtpError } from '@portcullis/smtp-replies';
import type { ConnectDnsbl } from '../connect/dnsbl.js';
import type { CredentialBackend } from '../login/credential-source.js';
import type { ListenerContext } from '../session/listener-context.js';
import type { ByteBudget } from './byte-budget.js';
import { collectMessage, type DataResult } from './collect.js';
import { acceptMessage } from './durable-accept.js';
import { envelopeOf } from './envelope.js';
import { checkFromOwnership } from './from-ownership.js';
import { watchHeaderLimits } from './header-limits.js';
import type { VerdictWaiter } from './verdict-waiter.js';

export interface DataDeps {
  ctx: ListenerContext;
  bus: Bus;
  state: SharedState;
  waiter: VerdictWaiter;
  budget: ByteBudget;
  credentials: CredentialBackend | null;
  dnsbl: ConnectDnsbl;
}

interface DataAnswer {
  code: number;
  enhanced: string;
  text: string;
  /** For the replies metric: what the sender was told, and the verdict heard in session. */
  outcome: string;
  verdict: string;
}

/** smtp-server's onData: answers the end of DATA (answerData), counts the reply, records refusals. */
export function onData(deps: DataDeps) {
  const { ctx } = deps;
  return (stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void => {
    answerData(deps, stream, session)
      .then((reply) => {
        ctx.metrics.replies.inc({ code: String(reply.code), outcome: reply.outcome, verdict: reply.verdict });
        // Refused before a verdict (nothing stored): only the trace remembers it.
        if (reply.code !== 250 && reply.verdict === 'none') ctx.recordRefusal('DATA', session, reply, undefined, reply.outcome);
        if (reply.code === 250) cb(null, reply.text); // smtp-server adds 2.6.0
        else cb(smtpError(reply));
      })
      .catch((err: Error) => {
        ctx.log.error({ error: err.message }, 'unexpected error at end of DATA');
        ctx.metrics.replies.inc({ code: '451', outcome: 'error', verdict: 'none' });
        cb(smtpError(Replies.stateUnavailable()));
      });
  };
}

/**
 * The checks at the end of DATA, in order: a timer that already cut the session, the size, the
 * header shape, what collecting found (line endings, memory), the From header on submission; then
 * the durable write and the wait for the verdict.
 */
async function answerData(deps: DataDeps, stream: SMTPServerDataStream, session: SMTPServerSession): Promise<DataAnswer> {
  const { ctx } = deps;
  const L = ctx.config.smtp.limits;
  const held = { bytes: 0 };
  // Attached before collecting: both read the same chunks.
  const headers = watchHeaderLimits(stream, { maxHeaderBytes: L.maxHeaderBytes, maxLineLength: L.maxLineLength });
  const mailFrom = session.envelope.mailFrom;
  try {
    const collected = await collectMessage(stream, ctx.limits.messageByteLimit(mailFrom), ctx.config.smtp.bareLineEndings, deps.budget, held);
    // A timer cut the session (DATA, session or command-phase time): the client already has its 421.
    const cut = ctx.limits.cutBy(session.id) ?? ctx.timeouts.cutBy(session.id);
    if (cut) return { ...cut, outcome: cut.limit, verdict: 'none' };
    const refusedAtData = (reply: { code: number; limit: string }) =>
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, limit: reply.limit, code: reply.code }, 'message refused at DATA');
    const size = ctx.limits.checkMessageSize(session.id, stream.byteLength, mailFrom);
    if (!size.ok) {
      refusedAtData(size);
      return { ...size, outcome: size.limit, verdict: 'none' };
    }
    const shape = headers.end();
    if (!shape.ok) {
      refusedAtData(shape);
      return { ...shape, outcome: shape.limit, verdict: 'none' };
    }
    if (!collected.ok) {
      ctx.log.info({ client: session.remoteAddress, reason: collected.reason }, 'message refused at DATA');
      return { ...collectRefusal(collected.reason, ctx.config.smtp.maxMessageBytes), outcome: collected.reason, verdict: 'none' };
    }
    if (ctx.kind !== 'mx') {
      const refusal = checkFromOwnership(collected.message, session, deps.credentials, ctx.log);
      if (refusal) return { ...refusal, outcome: 'sender-not-owned', verdict: 'none' };
    }
    const c = ctx.config;
    const result = await acceptMessage(
      { bus: deps.bus, state: deps.state, waiter: deps.waiter, logger: ctx.log, hostname: c.hostname, storeTimeoutMs: c.smtp.storeTimeoutMs, verdictTimeoutMs: c.smtp.verdictTimeoutMs },
      { protocol: session.transmissionType || 'ESMTP', body: collected.message, envelope: envelopeOf(ctx.kind, session), results: deps.dnsbl.results(session.id) },
    );
    return { ...result.reply, outcome: result.outcome, verdict: result.verdict?.action ?? 'none' };
  } finally {
    deps.budget.give(held.bytes);
  }
}

/** The reply for what collecting the message refused. */
function collectRefusal(reason: Extract<DataResult, { ok: false }>['reason'], maxMessageBytes: number) {
  switch (reason) {
    case 'too-big':
      return Replies.tooBig(maxMessageBytes);
    case 'bare-line-ending':
      return Replies.bareLineEnding();
    case 'memory-full':
      return Replies.memoryFull();
    case 'stream-error':
      return Replies.stateUnavailable();
  }
}
