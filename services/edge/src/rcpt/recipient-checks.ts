import type { Config } from '@portcullis/config';
import { addressTooLong, localPartOf, normaliseAddress, type LocalPartCase } from '@portcullis/contract';
import { rcpt, type Refusal } from '@portcullis/smtp-replies';

/** What the check needs to know of the configuration: built once at start by recipientPolicy. */
export interface RecipientPolicy {
  /** The accepted domains (lower case), each with what its mailbox server does with the case of local parts. */
  domains: ReadonlyMap<string, LocalPartCase>;
  /** relay.outbound is set: authenticated users may send to other domains. */
  outbound: boolean;
}

export function recipientPolicy(config: Config): RecipientPolicy {
  return {
    domains: new Map(config.domains.map((d) => [d.name.toLowerCase(), d.localPartCase])),
    outbound: Boolean(config.relay.outbound),
  };
}

export interface RcptContext {
  /** AUTH succeeded on a submission listener. */
  authenticated: boolean;
  /** MAIL FROM carried SMTPUTF8 (RFC 6531). */
  smtputf8: boolean;
}

/** ok: the address as it is stored from here on (domain lower-cased, local part as its domain says). */
export type RcptCheck = { ok: true; address: string; ours: boolean } | { ok: false; refusal: Refusal };

const refuse = (refusal: Refusal): RcptCheck => ({ ok: false, refusal });

/**
 * rcpt.accepted_domain and rcpt.syntax, the same on every listener. A recipient in one of our
 * domains must be written plainly, whoever sends: anything a mailbox server might read as a route
 * to somewhere else (user%other@ours, other!user@ours, @ours:user@other, a quoted local part
 * hiding an @) is refused here rather than trusted downstream, even from an authenticated user.
 * Without AUTH only our domains are accepted (no open relay); with AUTH other domains need
 * relay.outbound. Last, what cannot be stored is refused now (RFC 5321 4.5.3.1 limits, in octets,
 * which are also what the relay's Maildir can name), not answered 250 and failed later.
 */
export function checkRecipient(address: string, ctx: RcptContext, policy: RecipientPolicy): RcptCheck {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return refuse(rcpt.badSyntax.refuse(address));
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(address)) return refuse(rcpt.badSyntax.refuse(address));
  if (!ctx.smtputf8 && /[^\x21-\x7e]/.test(address)) return refuse(rcpt.badSyntax.refuse(address));
  const local = localPartOf(address);
  // A second @ or a source route (@relay:user@domain) is a route wherever it points.
  if (/[@:]/.test(local)) return refuse(rcpt.badSyntax.refuse(address));
  // Not domainOf: it drops a trailing dot, which must stay visible here (a second spelling of a domain).
  const domain = address.slice(at + 1).toLowerCase();
  const localPartCase = policy.domains.get(domain);
  if (localPartCase === undefined) {
    if (!ctx.authenticated) return refuse(rcpt.relayDenied.refuse(address));
    // A trailing dot would be a second spelling of one of our domains, sent out and back in.
    if (domain.endsWith('.')) return refuse(rcpt.badSyntax.refuse(address));
    if (!policy.outbound) return refuse(rcpt.noOutboundRoute.refuse(address));
    return storable(normaliseAddress(address, 'preserve'), false);
  }
  if (/[%!"\\]/.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return refuse(rcpt.badSyntax.refuse(address));
  }
  return storable(normaliseAddress(address, localPartCase), true);
}

/** Checked on the stored form: lower-casing can change the length of a UTF-8 address. */
function storable(address: string, ours: boolean): RcptCheck {
  const tooLong = addressTooLong(address);
  return tooLong ? refuse(rcpt.tooLong.refuse(tooLong)) : { ok: true, address, ours };
}
