import type { AnyReplyEntry } from '../reply.js';
import * as connect from './connect.js';
import * as login from './login.js';
import * as mail from './mail.js';
import * as rcpt from './rcpt.js';
import * as data from './data.js';
import * as verdict from './verdict.js';
import * as session from './session.js';

export { connect, login, mail, rcpt, data, verdict, session };
export type { Counted } from './client.js';
export type { AwaitedPhase } from './session.js';

/** The groups in the order of an SMTP session. */
export const groups = { connect, login, mail, rcpt, data, verdict, session } as const;

const isEntry = (v: unknown): v is AnyReplyEntry => typeof v === 'object' && v !== null && 'id' in v && 'refuse' in v;

/** Every reply the gateway sends that is ours (or whose code is ours): stages in session order, ids alphabetical within. */
export const catalogue: readonly AnyReplyEntry[] = Object.freeze(Object.values(groups).flatMap((group) => Object.values(group as Record<string, unknown>).filter(isEntry)));

const byId = new Map(catalogue.map((e) => [e.id, e]));

/** The entry with this id ("rcpt.relay-denied"), or undefined. */
export function replyEntry(id: string): AnyReplyEntry | undefined {
  return byId.get(id);
}
