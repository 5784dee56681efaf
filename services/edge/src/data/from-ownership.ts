import type { SMTPServerSession } from 'smtp-server';
import { headerSection } from '@portcullis/message';
import { data, type Refusal } from '@portcullis/smtp-replies';
import type { Logger } from '@portcullis/telemetry';
import type { CredentialBackend } from '../login/credential-source.js';
import { checkFromHeader } from '../mail/sender-identity.js';

/** data.from: on submission the From header must name only addresses the user owns. */
export function checkFromOwnership(message: Buffer, session: SMTPServerSession, credentials: CredentialBackend | null, log: Logger): Refusal | null {
  const user = typeof session.user === 'string' ? session.user : '';
  const verdict = checkFromHeader(user, headerSection(message), credentials && user ? credentials.addressesFor(user) : []);
  if (verdict.ok) return null;
  log.info({ client: session.remoteAddress, user, reason: verdict.reason }, 'From header refused');
  switch (verdict.reason) {
    case 'not-owned':
      return data.fromNotOwned.refuse(verdict.address);
    case 'missing':
      return data.fromMissing.refuse();
    case 'several-fields':
      return data.fromSeveral.refuse();
    case 'malformed':
      return data.fromMalformed.refuse();
  }
}
