import type { Config } from '@portcullis/config';
import { refusalError } from '@portcullis/smtp-replies';
import type { Refuse } from './listener-context.js';
import type { RefusalRecorder } from './refusal-record.js';
import { traceRefusal } from './refusal-trace.js';
import type { SessionLimits } from './session-limits.js';

/**
 * session.refuse: every refused MAIL and RCPT goes through here: traced, recorded in the message
 * trace, and answered. connect.tarpit: a client collecting errors waits longer for each refusal
 * (cheap for us, costly for a scanner); a refusal that closes the connection (every 421) is never delayed.
 */
export function refusalAnswerer(config: Config, limits: SessionLimits, recordRefusal: RefusalRecorder): Refuse {
  return (session, cb, refusal, command, address) => {
    traceRefusal(command, session, refusal.reply);
    recordRefusal(command, session, refusal.reply, address);
    const delay = tarpitDelay(config, limits.stats(session.id)?.errors ?? 0);
    if (delay === 0 || refusal.disconnect) return cb(refusalError(refusal));
    setTimeout(() => cb(refusalError(refusal)), delay);
  };
}

/** connect.tarpit: the wait before answering a client that already has `errors` errors. */
export function tarpitDelay(config: Config, errors: number): number {
  const L = config.smtp.limits;
  if (L.tarpitAfterErrors === 0 || errors < L.tarpitAfterErrors) return 0;
  return Math.min(L.tarpitMaxMs, L.tarpitDelayMs * (errors - L.tarpitAfterErrors + 1));
}
