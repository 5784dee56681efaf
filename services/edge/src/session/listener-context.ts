import type { SMTPServerSession } from 'smtp-server';
import type { Config } from '@portcullis/config';
import type { Refusal } from '@portcullis/smtp-replies';
import type { Logger } from '@portcullis/telemetry';
import type { ListenerKind } from '../listen/listeners.js';
import type { EdgeMetrics } from '../metrics.js';
import type { CommandTimeouts } from './command-timeouts.js';
import type { RefusalRecorder } from './refusal-record.js';
import type { SessionLimits } from './session-limits.js';

/** smtp-server's callback for the envelope hooks: no argument accepts, an error refuses. */
export type SmtpCallback = (err?: Error | null) => void;

/** Answers a refused command (traced, recorded, tarpitted): see session/refuse.ts. */
export type Refuse = (session: SMTPServerSession, cb: SmtpCallback, refusal: Refusal, command: string, address?: string) => void;

/** What the callbacks of one listener share, built once per listener by edge.ts. */
export interface ListenerContext {
  kind: ListenerKind;
  config: Config;
  log: Logger;
  metrics: EdgeMetrics;
  limits: SessionLimits;
  timeouts: CommandTimeouts;
  /** Client address per open session, for log lines written where only the session id is known. */
  clients: Map<string, string>;
  recordRefusal: RefusalRecorder;
  refuse: Refuse;
}
