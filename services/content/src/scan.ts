import { demand, result, type CheckResult, type MailRecord } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import { ClamdClient } from './engines/clamd.js';
import { RspamdClient } from './engines/rspamd.js';
import { parseMessage, type ParsedMessage } from './mime/parse.js';
import type { ContentCheck, ScanContext } from './checks/context.js';
import { antispamCheck, antivirusCheck } from './checks/engines.js';
import { checkAttachments } from './checks/attachments.js';
import { checkDisplayName, checkLinkMismatch, checkLookalikes, checkReplyTo, isExternal } from './checks/phishing.js';
import type { ContentMetrics } from './metrics.js';

export interface ScanOutcome {
  results: CheckResult[];
  /** From outside our domains, not submitted by our users (for external tagging). */
  external: boolean;
}

export interface Scanner {
  scan(record: MailRecord, now?: Date): Promise<ScanOutcome>;
}

const RULES: Array<[string, ContentCheck]> = [
  ['attachments', checkAttachments],
  ['display-name', checkDisplayName],
  ['lookalike', checkLookalikes],
  ['link-mismatch', checkLinkMismatch],
  ['reply-to', checkReplyTo],
];

/** The content stage's checks over one message: both engines and our own rules, side by side. */
export function createScanner(config: Config, metrics?: ContentMetrics): Scanner {
  const c = config.content;
  const clamd = c.antivirus.enabled ? new ClamdClient(c.antivirus) : undefined;
  const rspamd = c.antispam.enabled ? new RspamdClient(c.antispam) : undefined;
  const checks: Array<[string, ContentCheck]> = [['antivirus', antivirusCheck(clamd)], ['antispam', antispamCheck(rspamd)], ...RULES];
  const localDomains = config.domains.map((d) => d.name.toLowerCase());
  return {
    async scan(record, now = new Date()) {
      let parsed: ParsedMessage;
      const unparsed: CheckResult[] = [];
      try {
        parsed = await parseMessage(record.raw, c.attachments.maxInspectBytes);
      } catch {
        parsed = { from: [], replyTo: [], subject: '', html: '', text: '', parts: [] };
        unparsed.push(demand(result('content', 'content.mime', 'error', 'message structure could not be parsed for inspection', 0, now), 'quarantine', '5.6.0'));
      }
      const ctx: ScanContext = { meta: record.meta, raw: record.raw, parsed, config: c, localDomains, outbound: record.meta.envelope.auth !== null, now };
      const found = await Promise.all(checks.map(([name, check]) => timed(name, check, ctx, metrics)));
      return { results: [...unparsed, ...found.flat()], external: isExternal(ctx) };
    },
  };
}

async function timed(name: string, check: ContentCheck, ctx: ScanContext, metrics?: ContentMetrics): Promise<CheckResult[]> {
  const end = metrics?.checkDuration.startTimer({ check: name });
  try {
    return await check(ctx);
  } catch (e) {
    // A rule that throws is a bug; the message is held rather than passed unchecked.
    return [demand(result('content', `content.${name}`, 'error', `check ${name} failed: ${e instanceof Error ? e.message : String(e)}`, 0, ctx.now), 'quarantine', '5.7.1')];
  } finally {
    end?.();
  }
}
