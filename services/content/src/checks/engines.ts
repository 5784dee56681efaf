import { demand, result, type CheckResult } from '@portcullis/contract';
import { ClamdSizeLimitError, type ClamdClient } from '../engines/clamd.js';
import { envelopeHeaders, type RspamdClient } from '../engines/rspamd.js';
import type { ContentCheck, ScanContext } from './context.js';

/** An engine that did not answer: 451 (try again later) or a recorded skip, as configured. */
function unavailable(ctx: ScanContext, check: string, what: string, policy: 'tempfail' | 'skip', why: string): CheckResult {
  if (policy === 'skip') return result('content', check, 'skip', `${what} skipped: ${why}`, 0, ctx.now);
  return demand(result('content', check, 'error', `${what} unavailable, try again later`, 0, ctx.now), 'tempfail', '4.3.0');
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** content.antivirus: the whole message through clamd, which unpacks MIME parts and archives itself. */
export function antivirusCheck(clamd: ClamdClient | undefined): ContentCheck {
  return async (ctx) => {
    const av = ctx.config.antivirus;
    if (!clamd) return [result('content', 'content.antivirus', 'skip', 'antivirus not configured', 0, ctx.now)];
    if (ctx.raw.length > av.maxBytes) return [unavailable(ctx, 'content.antivirus', 'antivirus', av.onTooLarge, `message larger than ${av.maxBytes} bytes`)];
    try {
      const answer = await clamd.scan(ctx.raw);
      if (answer.kind === 'clean') return [result('content', 'content.antivirus', 'pass', 'no virus found', 0, ctx.now)];
      return [demand(result('content', 'content.antivirus', 'fail', `virus found: ${answer.signature}`, 0, ctx.now), 'reject', '5.7.1')];
    } catch (e) {
      // maxBytes set above clamd's StreamMaxLength: a size problem, not an outage (else it would tempfail for ever).
      if (e instanceof ClamdSizeLimitError) return [unavailable(ctx, 'content.antivirus', 'antivirus', av.onTooLarge, e.message)];
      return [unavailable(ctx, 'content.antivirus', 'antivirus', av.onFailure, message(e))];
    }
  };
}

/** content.antispam: rspamd's score (added to ours) and its ten strongest symbols in the reason. */
export function antispamCheck(rspamd: RspamdClient | undefined): ContentCheck {
  return async (ctx) => {
    const as = ctx.config.antispam;
    if (!rspamd) return [result('content', 'content.antispam', 'skip', 'antispam not configured', 0, ctx.now)];
    if (ctx.raw.length > as.maxBytes) return [result('content', 'content.antispam', 'skip', `antispam skipped: message larger than ${as.maxBytes} bytes`, 0, ctx.now)];
    try {
      const a = await rspamd.check(ctx.raw, envelopeHeaders(ctx.meta.envelope, ctx.meta.id));
      const top = a.symbols
        .filter((s) => s.score !== 0 || s.name === 'GTUBE')
        .slice(0, 10)
        .map((s) => `${s.name} ${round(s.score)}`);
      const reason = `rspamd score ${round(a.score)} (${a.action})${top.length ? `: ${top.join(', ')}` : ''}`;
      return [result('content', 'content.antispam', a.score >= a.requiredScore && a.requiredScore > 0 ? 'fail' : 'pass', reason, round(a.score), ctx.now)];
    } catch (e) {
      return [unavailable(ctx, 'content.antispam', 'antispam', as.onFailure, message(e))];
    }
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;
