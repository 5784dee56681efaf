import type { SMTPServerSession } from 'smtp-server';
import type { SmtpReply } from '@portcullis/smtp-replies';
import type { Logger } from '@portcullis/telemetry';
import type { CredentialBackend } from '../login/credential-source.js';
import { checkFromHeader } from '../mail/sender-identity.js';

/** data.from: on submission the From header must name only addresses the user owns. */
export function checkFromOwnership(message: Buffer, session: SMTPServerSession, credentials: CredentialBackend | null, log: Logger): SmtpReply | null {
  const user = typeof session.user === 'string' ? session.user : '';
  const end = message.indexOf('\r\n\r\n');
  const headers = end >= 0 ? message.subarray(0, end + 2) : message;
  const verdict = checkFromHeader(user, headers, credentials && user ? credentials.addressesFor(user) : []);
  if (verdict.ok) return null;
  log.info({ client: session.remoteAddress, user, reason: verdict.reason }, 'From header refused');
  const text =
    verdict.reason === 'not-owned'
      ? `From address <${verdict.address}> is not owned by the authenticated user`
      : `From header is ${verdict.reason === 'missing' ? 'missing' : verdict.reason === 'several-fields' ? 'given more than once' : 'malformed'}`;
  return { code: 553, enhanced: '5.7.1', text };
}
