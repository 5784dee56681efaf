import type { DownstreamConfig } from '@portcullis/config';
import type { Capabilities } from './capabilities.js';
import { destinationOf, type CircuitBreaker } from './circuit.js';
import { downgradeTo7bit, extensionNeeds } from './eight-bit.js';
import type { RecipientOutcome, SmtpDelivery } from './smtp-delivery.js';

export interface SmtpGroupDeps {
  smtp: SmtpDelivery;
  capabilities: Capabilities;
  breaker: CircuitBreaker;
}

const refuseAll = (recipients: string[], code: number, response: string): RecipientOutcome[] => recipients.map((recipient) => ({ recipient, status: 'permanent', code, response }));

/**
 * relay.smtp-group: one copy to the recipients of one destination, through
 * its circuit breaker, and only in a form the destination said it takes: a
 * UTF-8 address needs SMTPUTF8 (else bounced, RFC 6531 3.2), an 8-bit body
 * needs 8BITMIME (else converted to quoted-printable, or bounced when it
 * cannot be, RFC 6152 3). The caller records the outcome with the breaker
 * (after marking what was delivered). While the circuit is open nothing is tried: the
 * recipients come back temporary and marked circuitOpen (the attempt is not
 * counted against them).
 */
export async function sendToDestination(deps: SmtpGroupDeps, d: DownstreamConfig, from: string, recipients: string[], raw: Buffer): Promise<RecipientOutcome[]> {
  const destination = destinationOf(d);
  if (!(await deps.breaker.admit(destination))) {
    return recipients.map((recipient) => ({ recipient, status: 'temporary', response: `circuit open for ${destination}: delivery paused`, circuitOpen: true }));
  }
  const needs = extensionNeeds(from, recipients, raw);
  let body = raw;
  let eightBit = false;
  if (needs.utf8Address || needs.eightBitHeaders || needs.eightBitBody) {
    let ext: Set<string>;
    try {
      ext = await deps.capabilities.of(d);
    } catch (err) {
      return recipients.map((recipient): RecipientOutcome => ({ recipient, status: 'temporary', response: `EHLO probe: ${(err as Error).message}` }));
    }
    if (needs.utf8Address && !ext.has('SMTPUTF8')) {
      return refuseAll(recipients, 553, '553 5.6.7 an address is not ASCII and the next hop does not offer SMTPUTF8 (RFC 6531)');
    }
    if (needs.eightBitHeaders && !ext.has('SMTPUTF8') && !ext.has('8BITMIME')) {
      return refuseAll(recipients, 554, '554 5.6.7 the header has non-ASCII octets and the next hop offers neither SMTPUTF8 nor 8BITMIME');
    }
    if (needs.eightBitBody && !ext.has('8BITMIME')) {
      const converted = downgradeTo7bit(raw);
      if (!converted) return refuseAll(recipients, 554, '554 5.6.3 the 8-bit message cannot be converted to 7-bit and the next hop does not offer 8BITMIME');
      body = converted;
    } else eightBit = needs.eightBitBody || needs.eightBitHeaders;
  }
  return deps.smtp.send(d, from, recipients, body, { eightBit });
}
