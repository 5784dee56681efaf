import type { Config } from '@portcullis/config';
import type { MailRecord } from '@portcullis/contract';
import type { SharedState } from '@portcullis/state';
import { startChildSpan, endSpan, SpanKind, type Counter, type Logger, type Span } from '@portcullis/telemetry';
import { deliverToMaildir, maildirFailure } from './maildir.js';
import { outsideWithoutSmarthost, routeRecipients } from './route.js';
import type { RecipientOutcome } from './smtp-delivery.js';
import { sendToDestination, type SmtpGroupDeps } from './smtp-group.js';
import { destinationOf } from './circuit.js';

/** Outlives every retry of a record (the maximum age is configurable, 5 days by default). */
const deliveredTtl = (config: Config) => Math.max(7 * 24 * 3600, config.relay.maxAgeSeconds + 24 * 3600);
/**
 * The recipient as the edge stored it (domain lower-cased, local part as its domain's
 * localPartCase says): folding it again here could mark Bob@ delivered when only bob@ was.
 */
const deliveredKey = (id: string, rcpt: string) => `delivered:${id}:${rcpt}`;

/**
 * relay.deliver: delivers one message to the given recipients and says what
 * happened to each. A recipient already marked delivered (the record was read
 * again after a crash or rebalance) is not sent a second copy.
 */
export async function deliverMessage(
  /** The logger already carries the message id. */
  deps: SmtpGroupDeps & { config: Config; state: SharedState; logger: Logger; noSmarthost?: Counter<'kind'> },
  record: MailRecord,
  recipients: string[],
  parent: Span,
): Promise<RecipientOutcome[]> {
  const { meta, raw } = record;
  const done = await Promise.all(recipients.map((r) => deps.state.get(deliveredKey(meta.id, r))));
  const outcomes: RecipientOutcome[] = [];
  const todo: string[] = [];
  recipients.forEach((r, i) => (done[i] ? outcomes.push({ recipient: r, status: 'delivered', response: 'already delivered' }) : todo.push(r)));
  if (outcomes.length) deps.logger.info({ recipients: outcomes.length }, 'already delivered (record read again): not sent twice');

  for (const { route, recipients: group } of routeRecipients(deps.config, todo).values()) {
    let results: RecipientOutcome[];
    const span = startChildSpan(parent, route.kind === 'smtp' ? 'relay deliver smtp' : 'relay deliver maildir', SpanKind.CLIENT, {
      'portcullis.recipients': group.length,
      ...(route.kind === 'smtp' ? { 'server.address': route.downstream.host, 'server.port': route.downstream.port } : {}),
    });
    if (route.kind === 'smtp') {
      results = await sendToDestination(deps, route.downstream, meta.envelope.mailFrom, group, raw);
    } else {
      results = await Promise.all(
        group.map(async (r): Promise<RecipientOutcome> => {
          try {
            const path = await deliverToMaildir(route.root, r, meta.id, raw);
            if (outsideWithoutSmarthost(deps.config, r)) {
              const kind = meta.envelope.mailFrom === '' ? 'bounce' : 'mail';
              deps.noSmarthost?.inc({ kind });
              deps.logger.warn({ rcpt: r, kind, path }, 'no relay.outbound.smarthost: mail for an outside address written to the local Maildir, not sent');
            }
            return { recipient: r, status: 'delivered', response: `written to ${path}` };
          } catch (err) {
            return { recipient: r, status: maildirFailure(err), response: `maildir: ${(err as Error).message}` };
          }
        }),
      );
    }
    // First of all, before anything else can be interrupted: what the server has taken (a crash from
    // here on re-reads the record, and these marks keep it from being sent twice).
    await Promise.all(results.filter((o) => o.status === 'delivered').map((o) => markDelivered(deps, deliveredKey(meta.id, o.recipient))));
    // From here nothing may throw: a throw hands the record over again, and a mark that Redis lost
    // (an outage, a restart without persistence) would let it be delivered twice.
    if (route.kind === 'smtp' && !results.some((r) => r.status === 'temporary' && r.circuitOpen)) {
      await deps.breaker.record(destinationOf(route.downstream), results).catch((err: Error) => deps.logger.warn({ error: err.message }, 'circuit breaker not updated'));
    }
    const counts = { delivered: 0, temporary: 0, permanent: 0 };
    for (const o of results) counts[o.status]++;
    span.setAttributes({ 'portcullis.delivered': counts.delivered, 'portcullis.temporary': counts.temporary, 'portcullis.permanent': counts.permanent });
    endSpan(span, counts.delivered === results.length ? undefined : new Error(`${counts.temporary} temporary, ${counts.permanent} permanent failures`));
    for (const o of results) {
      deps.logger.info({ rcpt: o.recipient, status: o.status, response: o.response, via: route.kind }, 'delivery attempt');
    }
    outcomes.push(...results);
  }
  return outcomes;
}

/**
 * How long a delivery mark waits for Redis to come back (the record, and its partition, are held
 * meanwhile; the consumer keeps its membership). Written late, the mark still protects a record
 * read again later, even into a Redis that came back empty.
 */
const MARK_WITHIN_MS = 60_000;

/**
 * Records a delivery, waiting out a Redis outage. It never throws: the message is delivered, and
 * handing the record over again is what would deliver it twice. A mark given up on is logged; the
 * record is then finished normally (its offset committed), so only a crash before that commit
 * could bring it back.
 */
async function markDelivered(deps: { config: Config; state: SharedState; logger: Logger }, key: string): Promise<void> {
  const until = Date.now() + MARK_WITHIN_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.state.set(key, '1', deliveredTtl(deps.config));
      return;
    } catch (err) {
      if (Date.now() >= until) {
        deps.logger.error({ error: (err as Error).message, attempts: attempt }, 'could not record a delivery: a crash before this record is committed would deliver it again');
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}
