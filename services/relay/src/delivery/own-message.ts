import type { Config } from '@portcullis/config';
import { newMessageId, verdict, type MailRecord } from '@portcullis/contract';

/**
 * A message the gateway writes itself (a DSN, a quarantine digest) as a record on the decided
 * topic: from the null sender, as if submitted on loopback, already decided 'deliver' by `check`,
 * so that the relay delivers it by the normal route with the same retries, de-duplication and trace.
 */
export function ownMessageRecord(config: Config, raw: Buffer, to: { rcpt: string; smtputf8: boolean }, decided: { reason: string; check: string }, now: Date): MailRecord {
  return {
    raw,
    meta: {
      v: 1,
      id: newMessageId(now.getTime()),
      size: raw.length,
      envelope: {
        listener: 'submission',
        client: { ip: '127.0.0.1', port: 0 },
        helo: config.hostname,
        tls: null,
        auth: null,
        mailFrom: '',
        body: '7BIT',
        smtputf8: to.smtputf8,
        rcptTo: [to.rcpt],
        receivedAt: now.toISOString(),
      },
      results: [],
      verdict: verdict('deliver', decided.reason, decided.check, { now }),
    },
  };
}
