import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import { login, refusalError, type Refusal } from '@portcullis/smtp-replies';
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
export function onAuth(deps: LoginDeps) {
  const failures = new Map<string, number>();
  const handler = (auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void => {
    checkLogin(deps, failures, auth, session).then(
      (result) => ('user' in result ? cb(null, { user: result.user }) : cb(refusalError(result))),
      (err: Error) => {
        deps.logger.error({ error: err.message }, 'credential check failed');
        cb(refusalError(login.temporaryFailure.refuse()));
      },
    );
  };
  return { handler, forget: (sessionId: string) => failures.delete(sessionId) };
}

interface LoginDeps {
  credentials: CredentialBackend | null;
  maxFailures: number;
  logger: Logger;
  lockout: LoginLockout | null;
}

/** The lockout first (a banned client's password is not even looked at), then the credential source. */
async function checkLogin(deps: LoginDeps, failures: Map<string, number>, auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<{ user: string } | Refusal> {
  const backend = deps.credentials;
  if (!backend) return login.notAvailable.refuse();
  const gate = deps.lockout ? await deps.lockout.checkLoginAllowed(session.remoteAddress) : null;
  if (gate?.action === 'refuse') {
    deps.logger.info({ client: session.remoteAddress, rule: gate.refusal.reason }, 'AUTH refused by lockout');
    return gate.refusal;
  }
  const outcome = await backend.verify(auth.username ?? '', auth.password ?? '');
  if (outcome.ok) {
    failures.delete(session.id);
    deps.logger.info({ client: session.remoteAddress, user: outcome.user, method: auth.method }, 'authenticated');
    return { user: outcome.user };
  }
  if (outcome.reason === 'unavailable') {
    deps.logger.warn({ client: session.remoteAddress, detail: outcome.detail }, 'credential source unavailable');
    return login.temporaryFailure.refuse();
  }
  return countFailure(deps, failures, auth, session);
}

/** A refused password: counted per connection (421 past maxFailures) and by the lockout (a ban is a 421 too). */
async function countFailure(deps: LoginDeps, failures: Map<string, number>, auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<Refusal> {
  const n = (failures.get(session.id) ?? 0) + 1;
  failures.set(session.id, n);
  // Never the user name as typed: a password typed in the wrong field would sit in the log.
  deps.logger.info({ client: session.remoteAddress, method: auth.method, failures: n }, 'authentication failed');
  const ban = deps.lockout ? await deps.lockout.recordFailure(session.remoteAddress, auth.username ?? '') : null;
  if (ban?.action === 'refuse') {
    deps.logger.warn({ client: session.remoteAddress, rule: ban.refusal.reason }, 'client banned after failed AUTH');
    failures.delete(session.id);
    return ban.refusal;
  }
  if (n >= deps.maxFailures) {
    failures.delete(session.id);
    return login.tooManyFailures.refuse();
  }
  return login.invalidCredentials.refuse();
}
