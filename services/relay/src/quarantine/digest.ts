import { randomBytes } from 'node:crypto';
import type { Config } from '@portcullis/config';
import { domainOf, type MailRecord } from '@portcullis/contract';
import type { SharedState } from '@portcullis/state';
import type { QuarantineEntry, QuarantineStore } from './quarantine-store.js';
import { escapeForDisplay } from '@portcullis/contract';
import { ownMessageRecord } from '../delivery/own-message.js';

/**
 * relay.digest: one message per recipient (of the domains that opted in)
 * listing what was quarantined for them in the last period. The state claim
 * per recipient and period makes a second run (another replica, a restart)
 * send nothing twice, so the job is safe without leader election.
 */
export async function buildDigests(deps: { config: Config; store: QuarantineStore; state: SharedState }, now = new Date()): Promise<MailRecord[]> {
  const { domains, intervalSeconds } = deps.config.quarantine.digest;
  if (domains.length === 0) return [];
  const period = Math.floor(now.getTime() / 1000 / intervalSeconds);
  const since = new Date((period - 1) * intervalSeconds * 1000).toISOString();
  const until = new Date(period * intervalSeconds * 1000).toISOString();
  const held = (await deps.store.search({ since, until, limit: 1000 }, deps.config.quarantine.maxEntries)).filter((e) => e.status === 'held');
  const byRcpt = new Map<string, QuarantineEntry[]>();
  for (const e of held) {
    for (const r of e.rcpt) {
      if (!domains.includes(domainOf(r))) continue;
      byRcpt.set(r.toLowerCase(), [...(byRcpt.get(r.toLowerCase()) ?? []), e]);
    }
  }
  const out: MailRecord[] = [];
  for (const [rcpt, entries] of byRcpt) {
    const mine = randomBytes(6).toString('hex');
    if ((await deps.state.claim(`quarantine:digest:${rcpt}:${period}`, mine, intervalSeconds * 2)) !== mine) continue;
    out.push(digestRecord(deps.config, rcpt, entries, now));
  }
  return out;
}

function digestRecord(config: Config, rcpt: string, entries: QuarantineEntry[], now: Date): MailRecord {
  const lines = entries.map((e) => `${e.quarantinedAt}  from ${e.from || '<>'}\r\n    subject: ${e.subject}\r\n    reason: ${e.reason}\r\n    id: ${e.id}`);
  const text = escapeForDisplay(
    `${entries.length} message(s) addressed to you were quarantined by the mail gateway and not delivered:\r\n\r\n${lines.join('\r\n\r\n')}\r\n\r\nIf one of them is wanted, ask your mail administrator to release it by its id.\r\n`,
    { keepLineBreaks: true },
  );
  const raw = Buffer.from(
    `From: Mail Gateway <postmaster@${config.hostname}>\r\nTo: <${rcpt}>\r\nSubject: Quarantine digest: ${entries.length} message(s) held\r\n` +
      `Date: ${now.toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: <${randomBytes(12).toString('hex')}@${config.hostname}>\r\nAuto-Submitted: auto-generated\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(text).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`,
  );
  return ownMessageRecord(config, raw, { rcpt, smtputf8: false }, { reason: 'quarantine digest', check: 'relay.digest' }, now);
}
