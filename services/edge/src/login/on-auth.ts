import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import { smtpError } from '@portcullis/smtp-replies';
import type { Logger } from '@portcullis/telemetry';
import type { CredentialBackend } from './credential-source.js';
import type { LoginLockout } from './lockout.js';

/**
 * login: AUTH PLAIN/LOGIN against the configured source. smtp-server puts
 * no limit on attempts per connection, so we count failures per session and
 * close the connection (421) past the limit. A source that cannot answer is a
 * temporary failure (454 4.7.0), never a pass. Passwords are never logged, nor
 * the user name of a failed attempt (only a successful login logs its identity).
 */
export function onAuth(deps: { credentials: CredentialBackend | null; maxFailures: number; logger: Logger; lockout: LoginLockout | null }) {
  const failures = new Map<string, number>();
  const handler = (
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void => {
    const username = auth.username ?? '';
    const backend = deps.credentials;
    if (!backend) {
      cb(smtpError({ code: 454, enhanced: '4.7.0', text: 'Authentication is not available' }));
      return;
    }
    // A banned client (or a lockout we cannot consult) is refused before the password is even looked at.
    const gate = deps.lockout ? deps.lockout.checkLoginAllowed(session.remoteAddress) : Promise.resolve({ action: 'allow' as const });
    gate
      .then(async (verdict) => {
        if (verdict.action === 'refuse') return { kind: 'refused' as const, refused: verdict };
        return { kind: 'checked' as const, outcome: await backend.verify(username, auth.password ?? '') };
      })
      .then(async (r) => {
        if (r.kind === 'refused') {
          deps.logger.info({ client: session.remoteAddress, rule: r.refused.rule }, 'AUTH refused by lockout');
          return cb(smtpError(r.refused));
        }
        const outcome = r.outcome;
        if (outcome.ok) {
          failures.delete(session.id);
          deps.logger.info({ client: session.remoteAddress, user: outcome.user, method: auth.method }, 'authenticated');
          return cb(null, { user: outcome.user });
        }
        if (outcome.reason === 'unavailable') {
          deps.logger.warn({ client: session.remoteAddress, detail: outcome.detail }, 'credential source unavailable');
          return cb(smtpError({ code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure, try again later' }));
        }
        const n = (failures.get(session.id) ?? 0) + 1;
        failures.set(session.id, n);
        // Never the user name as typed: a password typed in the wrong field would sit in the log.
        deps.logger.info({ client: session.remoteAddress, method: auth.method, failures: n }, 'authentication failed');
        const ban = deps.lockout ? await deps.lockout.recordFailure(session.remoteAddress, username) : null;
        if (ban?.action === 'refuse') {
          deps.logger.warn({ client: session.remoteAddress, rule: ban.rule }, 'client banned after failed AUTH');
          failures.delete(session.id);
          return cb(smtpError(ban));
        }
        if (n >= deps.maxFailures) {
          failures.delete(session.id);
          return cb(smtpError({ code: 421, enhanced: '4.7.0', text: 'Too many authentication failures, closing connection' }));
        }
        cb(smtpError({ code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' }));
      })
      .catch((err: Error) => {
        deps.logger.error({ error: err.message }, 'credential check failed');
        cb(smtpError({ code: 454, enhanced: '4.7.0', text: 'Temporary authentication failure, try again later' }));
      });
  };
  return { handler, forget: (sessionId: string) => failures.delete(sessionId) };
}
