import type { SMTPServerSession } from 'smtp-server';
import type { Config } from '@portcullis/config';
import { newMessageId } from '@portcullis/contract';
import type { SharedState } from '@portcullis/state';
import { MessageTraceWriter } from '@portcullis/message-trace';
import type { Logger, Registry } from '@portcullis/telemetry';

/**
 * edge.refusal-record: a refusal before the message was stored (connect, MAIL,
 * RCPT, or DATA refused by a limit) goes into the message trace as a transaction of its own (an id of its own, the client
 * IP, the sender and the refused recipient), so "why did my mail not arrive?"
 * finds it like any delivered message. Never blocks or fails the session.
 */
export type RefusalRecorder = (command: string, session: SMTPServerSession, reply: { code: number; enhanced: string; text: string }, address?: string, rule?: string) => void;

export function refusalRecorder(deps: { config: Config; state: SharedState; logger: Logger; registry: Registry }): RefusalRecorder {
  const writer = new MessageTraceWriter({ state: deps.state, logger: deps.logger, registry: deps.registry, options: deps.config.messageTrace });
  return (command: string, session: SMTPServerSession, reply: { code: number; enhanced: string; text: string }, address?: string, rule?: string): void => {
    const at = new Date().toISOString();
    const id = newMessageId();
    const from = command === 'MAIL' ? (address ?? '') : session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcpt = command === 'RCPT' ? (address ? [address] : []) : command === 'DATA' ? session.envelope.rcptTo.map((r) => r.address) : [];
    const answer = `${reply.code} ${reply.enhanced} ${reply.text}`;
    writer.summary(
      { id, from, rcpt, clientIp: session.remoteAddress, receivedAt: at, outcome: `refused at ${command}: ${reply.code} ${reply.enhanced}`, outcomeAt: at },
      { index: true, ...(command === 'CONNECT' ? { skipIndex: ['from' as const] } : {}) },
    );
    writer.events(id, [
      {
        at,
        stage: 'edge',
        event: `${command} refused`,
        outcome: String(reply.code),
        detail: rule ? `${answer} (rule ${rule})` : answer,
        ...(command === 'RCPT' && address ? { recipient: address } : {}),
      },
    ]);
  };
}
