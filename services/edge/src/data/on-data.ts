import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Bus } from '@portcullis/bus';
import type { SharedState } from '@portcullis/state';
import { because, data, refusalError, type Refusal } from '@portcullis/smtp-replies';
import type { ConnectDnsbl } from '../connect/dnsbl.js';
import type { CredentialBackend } from '../login/credential-source.js';
import type { ListenerContext } from '../session/listener-context.js';
import type { LimitVerdict } from '../session/limit-refusals.js';
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
  /** Null: accepted, answered data.queued. */
  refusal: Refusal | null;
  messageId?: string;
  /** For the replies metric: what the sender was told, and the verdict heard in session. */
  outcome: string;
  verdict: string;
}

/** smtp-server's onData: answers the end of DATA (answerData), counts the reply, records refusals. */
export function onData(deps: DataDeps) {
  const { ctx } = deps;
  return (stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void => {
    answerData(deps, stream, session)
      .then((answer) => {
        const { refusal } = answer;
        const code = refusal ? refusal.reply.code : data.queued.code;
        ctx.metrics.replies.inc({ code: String(code), outcome: answer.outcome, verdict: answer.verdict });
        // smtp-server puts data.queued's 2.6.0 on the 250 itself: we hand it the text only.
        if (!refusal) return cb(null, data.queued.reply(answer.messageId ?? '').text);
        // Refused before a verdict (nothing stored): only the trace remembers it.
        if (answer.verdict === 'none') ctx.recordRefusal('DATA', session, refusal.reply, undefined, answer.outcome);
        cb(refusalError(refusal));
      })
      .catch((err: Error) => {
        ctx.log.error({ error: err.message }, 'unexpected error at end of DATA');
        ctx.metrics.replies.inc({ code: String(data.localProblem.code), outcome: 'error', verdict: 'none' });
        cb(refusalError(data.localProblem.refuse()));
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
  const refused = (refusal: Refusal): DataAnswer => ({ refusal, outcome: refusal.reason, verdict: 'none' });
  try {
    const collected = await collectMessage(stream, ctx.limits.messageByteLimit(mailFrom), ctx.config.smtp.bareLineEndings, deps.budget, held);
    // A timer cut the session (DATA, session or command-phase time): the client already has its 421.
    const cut = ctx.limits.cutBy(session.id) ?? ctx.timeouts.cutBy(session.id);
    if (cut) return refused(cut);
    const limit = refusalOf(ctx.limits.checkMessageSize(session.id, stream.byteLength, mailFrom)) ?? refusalOf(headers.end());
    if (limit) {
      ctx.log.info({ client: session.remoteAddress, listener: ctx.kind, limit: limit.reason, code: limit.reply.code }, 'message refused at DATA');
      return refused(limit);
    }
    if (!collected.ok) {
      ctx.log.info({ client: session.remoteAddress, reason: collected.reason }, 'message refused at DATA');
      return refused(collectRefusal(collected.reason, ctx.config.smtp.maxMessageBytes));
    }
    if (ctx.kind !== 'mx') {
      const refusal = checkFromOwnership(collected.message, session, deps.credentials, ctx.log);
      if (refusal) return { refusal, outcome: 'sender-not-owned', verdict: 'none' };
    }
    const c = ctx.config;
    const result = await acceptMessage(
      {
        bus: deps.bus,
        state: deps.state,
        waiter: deps.waiter,
        logger: ctx.log,
        hostname: c.hostname,
        storeTimeoutMs: c.smtp.storeTimeoutMs,
        verdictTimeoutMs: c.smtp.verdictTimeoutMs,
      },
      { protocol: session.transmissionType || 'ESMTP', body: collected.message, envelope: envelopeOf(ctx.kind, session), results: deps.dnsbl.results(session.id) },
    );
    return { refusal: result.refusal, messageId: result.messageId, outcome: result.outcome, verdict: result.verdict?.action ?? 'none' };
  } finally {
    deps.budget.give(held.bytes);
  }
}

function refusalOf(verdict: LimitVerdict): Refusal | null {
  return verdict.ok ? null : verdict.refusal;
}

/** The refusal for what collecting the message refused; its reason is what collecting found. */
function collectRefusal(reason: Extract<DataResult, { ok: false }>['reason'], maxMessageBytes: number): Refusal {
  switch (reason) {
    case 'too-big':
      return because(data.tooBig.refuse(maxMessageBytes), reason);
    case 'bare-line-ending':
      return because(data.bareLineEnding.refuse(), reason);
    case 'memory-full':
      return because(data.memoryFull.refuse(), reason);
    case 'stream-error':
      return because(data.localProblem.refuse(), reason);
  }
}
