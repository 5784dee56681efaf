import { Topics, laterTurn, newMessageId, type CheckResult, type Envelope, type MailMeta, type MailRecord, type Verdict } from '@portcullis/contract';
import { publishWithin, toOutRecord, type Bus } from '@portcullis/bus';
import { claimFate, type SharedState } from '@portcullis/state';
import { data, refusalForVerdict, type Refusal } from '@portcullis/smtp-replies';
import { startSpan, endSpan, traceIdOf, SpanKind, type Logger } from '@portcullis/telemetry';
import type { VerdictWaiter } from './verdict-waiter.js';
import { receivedHeader } from './received.js';

export interface AcceptDeps {
  bus: Bus;
  state: SharedState;
  waiter: VerdictWaiter;
  logger: Logger;
  hostname: string;
  storeTimeoutMs: number;
  verdictTimeoutMs: number;
  now?: () => Date;
}

export interface AcceptInput {
  envelope: Omit<Envelope, 'receivedAt'>;
  protocol: string;
  body: Buffer;
  /** What was found before DATA (connect-time list answers), carried in the record. */
  results?: CheckResult[];
}

export interface AcceptOutcome {
  messageId: string;
  /** Null: the message is accepted (data.queued); otherwise the refusal the sender gets. */
  refusal: Refusal | null;
  /** What the sender was told, for logs and metrics. */
  outcome: 'accepted' | 'rejected' | 'tempfailed' | 'store-failed';
  verdict: Verdict | null;
}

/**
 * data.accept: the end of DATA. The message is stored durably first (250 is
 * never given before that); then the session waits, up to the deadline, for
 * the pipeline's verdict so that a reject reaches the sender in the session
 * instead of as a bounce later.
 */
export async function acceptMessage(deps: AcceptDeps, input: AcceptInput): Promise<AcceptOutcome> {
  const now = deps.now?.() ?? new Date();
  const id = newMessageId(now.getTime());
  const span = startSpan('smtp DATA', SpanKind.PRODUCER, undefined, {
    'portcullis.message_id': id,
    'client.address': input.envelope.client.ip,
    'portcullis.listener': input.envelope.listener,
    'messaging.destination.name': Topics.accepted,
  });
  const traceId = traceIdOf(span);
  const log = deps.logger.child({ messageId: id, traceId });
  const received = receivedHeader({
    traceId,
    helo: input.envelope.helo,
    clientIp: input.envelope.client.ip,
    ...(input.envelope.client.hostname ? { clientHostname: input.envelope.client.hostname } : {}),
    by: deps.hostname,
    protocol: input.protocol,
    tls: input.envelope.tls,
    id,
    recipients: input.envelope.rcptTo,
    date: now,
  });
  // The message was just joined (collectMessage), is joined again here, and is copied once more
  // into the bus record: a few ms each for a large message. A turn of the event loop between
  // them lets other sessions in, rather than one block of all three.
  await laterTurn();
  const raw = Buffer.concat([received, input.body], received.length + input.body.length);
  await laterTurn();
  const meta: MailMeta = {
    v: 1,
    id,
    size: raw.length,
    envelope: { ...input.envelope, receivedAt: now.toISOString() },
    results: [...(input.results ?? [])],
  };
  if (deps.verdictTimeoutMs > 0) {
    meta.replyTo = { channel: deps.waiter.channel, deadline: new Date(now.getTime() + deps.verdictTimeoutMs).toISOString() };
  }
  const record: MailRecord = { meta, raw };

  const waiting = deps.verdictTimeoutMs > 0 ? deps.waiter.expect(id, deps.verdictTimeoutMs) : null;
  try {
    await publishWithin(deps.bus, Topics.accepted, [toOutRecord(record, span, Topics.accepted)], deps.storeTimeoutMs);
  } catch (err) {
    waiting?.cancel();
    // The bus may still store the record after we gave up; the fate tells the
    // pipeline to drop it then, since the sender was told to try again.
    await claimFate(deps.state, id, 'tempfailed').catch(() => undefined);
    log.warn({ error: (err as Error).message }, 'durable write failed, answered 451');
    span.setAttribute('smtp.reply_code', 451);
    endSpan(span, err);
    return { messageId: id, refusal: data.storeFailed.refuse(id), outcome: 'store-failed', verdict: null };
  }
  log.info({ size: raw.length, rcpts: input.envelope.rcptTo.length, client: input.envelope.client.ip }, 'message stored');

  const verdict = waiting ? await waiting.verdict : null;
  const result = await answer(deps, id, verdict, log);
  span.setAttribute('smtp.reply_code', result.refusal?.reply.code ?? data.queued.code);
  span.setAttribute('portcullis.verdict', verdict?.action ?? 'none');
  if (verdict) span.setAttribute('portcullis.reason', verdict.reason);
  endSpan(span);
  return result;
}

async function answer(deps: AcceptDeps, id: string, verdict: Verdict | null, log: Logger): Promise<AcceptOutcome> {
  if (!verdict) {
    // Deadline passed: from here on a reject can only become quarantine.
    await claimFate(deps.state, id, 'accepted').catch((err: Error) => log.warn({ error: err.message }, 'could not record fate'));
    return { messageId: id, refusal: null, outcome: 'accepted', verdict: null };
  }
  const refusal = refusalForVerdict(verdict, id);
  // deliver or quarantine: accepted (a quarantined message is answered like a delivered one).
  if (!refusal) return { messageId: id, refusal: null, outcome: 'accepted', verdict };
  const wanted = verdict.action === 'reject' ? 'rejected' : 'tempfailed';
  let fate: string;
  try {
    fate = await claimFate(deps.state, id, wanted);
  } catch (err) {
    // Without the claim the relay cannot know the sender was refused; accept,
    // and the relay turns the reject into quarantine.
    log.warn({ error: (err as Error).message }, 'could not record fate; accepting for quarantine');
    return { messageId: id, refusal: null, outcome: 'accepted', verdict };
  }
  if (fate !== wanted) return { messageId: id, refusal: null, outcome: 'accepted', verdict };
  log.info({ action: verdict.action, reason: verdict.reason, by: verdict.decidedBy }, 'refused in session');
  return { messageId: id, refusal, outcome: wanted, verdict };
}
