/** The command-phase timeouts as configured (smtp.commandTimeouts), their RFC ceilings and defaults. */

export interface CommandTimeoutOptions {
  greetingMs: number;
  mailMs: number;
  rcptMs: number;
  dataInitiationMs: number;
  dataBlockMs: number;
  /** The greeting and mail phases of unauthenticated sessions while the listener is under pressure. */
  stressedPreMailMs: number;
}

/** RFC 5321 4.5.3.2's minimums: the most we ever wait in each phase. */
export const COMMAND_TIMEOUT_CEILINGS: Omit<CommandTimeoutOptions, 'stressedPreMailMs'> = {
  greetingMs: 5 * 60_000,
  mailMs: 5 * 60_000,
  rcptMs: 5 * 60_000,
  dataInitiationMs: 2 * 60_000,
  dataBlockMs: 3 * 60_000,
};

export const DEFAULT_COMMAND_TIMEOUTS: CommandTimeoutOptions = {
  greetingMs: 60_000,
  mailMs: 60_000,
  rcptMs: 5 * 60_000,
  dataInitiationMs: 2 * 60_000,
  dataBlockMs: 3 * 60_000,
  stressedPreMailMs: 10_000,
};
