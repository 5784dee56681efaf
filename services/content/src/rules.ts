import { demand, result, type CheckResult, type MailMeta } from '@portcullis/contract';
import { EMPTY_MESSAGE, parseMime, type ParsedMessage } from '@portcullis/message';
import type { ContentCheck, ContentConfig, ScanContext } from './checks/context.js';
import { checkAttachments } from './checks/attachments.js';
import { checkDisplayName, checkLinkMismatch, checkLookalikes, checkReplyTo, isExternal } from './checks/phishing.js';

/** Our own rules: pure CPU over the parsed message, run in the stage's parsing worker. */
export const RULES: Array<[string, ContentCheck]> = [
  ['attachments', checkAttachments],
  ['display-name', checkDisplayName],
  ['lookalike', checkLookalikes],
  ['link-mismatch', checkLinkMismatch],
  ['reply-to', checkReplyTo],
];

export const UNPARSED: ParsedMessage = EMPTY_MESSAGE;

export interface RulesOutcome {
  /** A demand when the message could not be parsed (first in the results, as before). */
  unparsed: CheckResult[];
  rules: CheckResult[];
  external: boolean;
  /** Seconds per rule, for the check-duration metric on the main thread. */
  timings: Array<[string, number]>;
}

/** Parses the message (the bounded MIME parse of @portcullis/message) and runs every rule on it. */
export async function runRules(raw: Buffer, meta: MailMeta, config: ContentConfig, localDomains: string[], now: Date): Promise<RulesOutcome> {
  let parsed: ParsedMessage;
  const unparsed: CheckResult[] = [];
  try {
    parsed = await parseMime(raw, { inspectBytes: config.attachments.maxInspectBytes });
  } catch {
    parsed = UNPARSED;
    unparsed.push(demand(result('content', 'content.mime', 'error', 'message structure could not be parsed for inspection', 0, now), 'quarantine', '5.6.0'));
  }
  const ctx: ScanContext = { meta, raw, parsed, config, localDomains, outbound: meta.envelope.auth !== null, now };
  const timings: Array<[string, number]> = [];
  const found = await Promise.all(RULES.map(([name, check]) => timed(name, check, ctx, (s) => timings.push([name, s]))));
  return { unparsed, rules: found.flat(), external: isExternal(ctx), timings };
}

/** One check; a check that throws is a bug, and the message is held rather than passed unchecked. */
export async function timed(name: string, check: ContentCheck, ctx: ScanContext, took: (seconds: number) => void): Promise<CheckResult[]> {
  const start = performance.now();
  try {
    return await check(ctx);
  } catch (e) {
    return [demand(result('content', `content.${name}`, 'error', `check ${name} failed: ${e instanceof Error ? e.message : String(e)}`, 0, ctx.now), 'quarantine', '5.7.1')];
  } finally {
    took((performance.now() - start) / 1000);
  }
}
