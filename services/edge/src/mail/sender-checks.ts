import type { SMTPServerSession } from 'smtp-server';
import { domainOf } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import { mail, type Refusal } from '@portcullis/smtp-replies';
import type { CredentialBackend } from '../login/credential-source.js';
import type { ListenerKind } from '../listen/listeners.js';
import { checkSender } from './sender-identity.js';
import { isTrustedPeer } from '../connect/trusted-peers.js';

/**
 * mail.sender: MAIL FROM. On the submission ports the authenticated user may
 * only send as an address it owns (553 5.7.1 otherwise: a stolen password
 * must not become a licence to impersonate the whole organisation). On MX,
 * senders and networks the operator listed must use STARTTLS (530 5.7.0).
 */
export function checkMailFrom(kind: ListenerKind, session: SMTPServerSession, address: string, deps: { config: Config; credentials: CredentialBackend | null }): Refusal | null {
  if (kind !== 'mx') {
    const user = typeof session.user === 'string' ? session.user : '';
    const allowed = user && deps.credentials ? deps.credentials.addressesFor(user) : [];
    if (!user || !checkSender(user, address, allowed)) {
      return mail.senderNotOwned.refuse(address);
    }
    return null;
  }
  if (!session.secure) {
    const rule = deps.config.smtp.requireTls;
    const domain = domainOf(address);
    if (rule.senderDomains.includes(domain) || (rule.networks.length > 0 && isTrustedPeer(session.remoteAddress, rule.networks))) {
      return mail.tlsRequired.refuse();
    }
  }
  return null;
}
