import { defineReply } from '../reply.js';

/** AUTH on the submission listeners (the edge's login; "auth" is the SPF/DKIM/DMARC service). */

/** The text installReplyWriter puts in place of smtp-server's non-standard 538 (RFC 3207 section 4). */
export const tlsRequired = defineReply({
  id: 'login.tls-required',
  code: 530,
  enhanced: '5.7.0',
  text: 'Must issue a STARTTLS command first',
  checks: 'installReplyWriter',
});

export const notAvailable = defineReply({
  id: 'login.not-available',
  code: 454,
  enhanced: '4.7.0',
  text: 'Authentication is not available',
  checks: 'checkLogin',
});

/** RFC 4954 section 6: "454 4.7.0 Temporary authentication failure". */
export const temporaryFailure = defineReply({
  id: 'login.temporary-failure',
  code: 454,
  enhanced: '4.7.0',
  text: 'Temporary authentication failure, try again later',
  checks: ['checkLogin', 'onAuth', 'LoginLockout.checkLoginAllowed'],
});

/** RFC 4954 section 6: "535 5.7.8 Authentication credentials invalid". */
export const invalidCredentials = defineReply({
  id: 'login.invalid-credentials',
  code: 535,
  enhanced: '5.7.8',
  text: 'Authentication credentials invalid',
  checks: 'countFailure',
});

export const tooManyFailures = defineReply({
  id: 'login.too-many-failures',
  code: 421,
  enhanced: '4.7.0',
  text: 'Too many authentication failures, closing connection',
  checks: 'countFailure',
});

/** A banned client, at connect, at AUTH, or at the failure that earned the ban. */
export const lockedOut = defineReply({
  id: 'login.locked-out',
  code: 421,
  enhanced: '4.7.0',
  text: (ip: string, remainingSeconds: number) => {
    const minutes = Math.max(1, Math.ceil(remainingSeconds / 60));
    return `Too many failed authentication attempts from [${ip}]; blocked, try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
  },
  example: ['192.0.2.10', 900],
  checks: ['LoginLockout.checkConnect', 'LoginLockout.checkLoginAllowed', 'LoginLockout.recordFailure'],
});
