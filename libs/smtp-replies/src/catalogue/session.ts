import { defineReply } from '../reply.js';

/** Session-wide guards: command, error and time limits, command timeouts, slot reclaiming, shutdown. */

export const tooManyCommands = defineReply({
  id: 'session.too-many-commands',
  code: 421,
  enhanced: '4.7.0',
  text: 'Too many commands in one connection, closing',
  checks: 'SessionLimits.command',
});

export const tooManyErrors = defineReply({
  id: 'session.too-many-errors',
  code: 421,
  enhanced: '4.7.0',
  text: 'Too many errors, closing connection',
  checks: 'SessionLimits.command',
});

/** smtp-server's text; installReplyWriter gives it this code instead of 4.4.2 "timeout". */
export const unrecognizedCommands = defineReply({
  id: 'session.unrecognized-commands',
  code: 421,
  enhanced: '4.7.0',
  text: 'Error: too many unrecognized commands',
  checks: 'installReplyWriter',
  writer: 'smtp-server',
});

export const timeLimit = defineReply({
  id: 'session.time-limit',
  code: 421,
  enhanced: '4.4.2',
  text: 'Connection time limit reached, closing',
  checks: ['SessionLimits.command', 'SessionLimits.onSessionTimer'],
});

/** What the client was expected to send, per command phase (smtp.commandTimeouts). */
const AWAITED = {
  greeting: 'the first command',
  mail: 'a command',
  rcpt: 'a command',
  'data-initiation': 'message data',
  'data-block': 'more message data',
} as const;
export type AwaitedPhase = keyof typeof AWAITED;

export const commandTimeout = defineReply({
  id: 'session.command-timeout',
  code: 421,
  enhanced: '4.4.2',
  text: (phase: AwaitedPhase, ms: number) => `Timeout waiting for ${AWAITED[phase]} (${Math.round(ms / 100) / 10} s), closing connection`,
  example: ['greeting', 30000],
  checks: 'commandTimeoutReply',
});

/** An idle session closed to make room for a new client (smtp.reclaim). */
export const reclaimed = defineReply({
  id: 'session.reclaimed',
  code: 421,
  enhanced: '4.7.0',
  text: 'Server busy, closing idle connection, try again later',
  checks: 'reclaimReply',
});

/**
 * The last word to sessions still open when the grace period of a stop ends. smtp-server put
 * 4.4.2 "bad connection" on it (its code for every 421); RFC 3463 section 3.4, X.3.2 "system not
 * accepting network messages", is the code for a server going down, as connect.shutting-down has.
 */
export const shuttingDown = defineReply({
  id: 'session.shutting-down',
  code: 421,
  enhanced: '4.3.2',
  text: 'Server shutting down',
  checks: 'createProxiedListener',
});
