import { Replies, type SmtpReply } from '@portcullis/smtp-replies';

export type RcptCheck = { ok: true; address: string } | { ok: false; reply: SmtpReply };

/**
 * rcpt.accepted_domain: without AUTH a recipient must be in one of our domains,
 * written plainly. Anything a mailbox server might read as a route to
 * somewhere else (user%other@ours, other!user@ours, @ours:user@other, a quoted
 * local part hiding an @) is refused here rather than trusted downstream.
 */
export function checkRecipient(address: string, acceptedDomains: ReadonlySet<string>, smtputf8: boolean): RcptCheck {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return { ok: false, reply: Replies.badRecipientSyntax(address) };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (/[%!@:"\\\s]/.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return { ok: false, reply: Replies.badRecipientSyntax(address) };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(address)) return { ok: false, reply: Replies.badRecipientSyntax(address) };
  if (!smtputf8 && /[^\x21-\x7e]/.test(address)) return { ok: false, reply: Replies.badRecipientSyntax(address) };
  if (domain.endsWith('.') || domain.startsWith('[')) return { ok: false, reply: Replies.relayDenied(address) };
  if (!acceptedDomains.has(domain)) return { ok: false, reply: Replies.relayDenied(address) };
  return { ok: true, address: `${local}@${domain}` };
}
