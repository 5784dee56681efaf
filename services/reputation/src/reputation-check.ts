import { demand, domainOf, result, type CheckResult, type MailRecord } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import { checkDomains, checkLinkAddresses, type LookupDeps } from '@portcullis/dnsbl';
import { unbounded, type RecordBudget } from '@portcullis/bus';
import { getDomain } from 'tldts';
import type { LinkReader } from './links-reader.js';
import type { LocalLists } from './local-lists.js';
import { historySubjects, type SenderHistory } from './sender-history.js';

export interface CheckDeps extends LookupDeps {
  config: Config['reputation'];
  /** Our accepted domains: never looked up. */
  ours: ReadonlySet<string>;
  local: LocalLists;
  history: SenderHistory | null;
  /** Parses the message for its links (in a worker: workerLinkReader). */
  links: LinkReader;
}

/** Links read per message; the cap on look-ups is maxDomains. */
const MAX_LINKS = 500;

function linkFlags(cfg: Config['reputation']['content'], shorteners: string[], ipLinks: string[]): CheckResult[] {
  const out: CheckResult[] = [];
  if (shorteners.length > 0) out.push(result('reputation', 'reputation.shortener', 'info', `links through shorteners: ${shorteners.slice(0, 5).join(', ')}`, cfg.shortenerWeight));
  if (ipLinks.length > 0) out.push(result('reputation', 'reputation.ip-link', 'info', `links to bare IP addresses: ${ipLinks.slice(0, 5).join(', ')}`, cfg.ipUrlWeight));
  return out;
}

async function historyResults(history: SenderHistory, subjects: string[]): Promise<CheckResult[]> {
  try {
    return await Promise.all(subjects.map(async (s) => history.score(s, await history.read(s))));
  } catch (err) {
    return [result('reputation', 'reputation.history', 'error', `history unavailable: ${(err as Error).message}`.slice(0, 200))];
  }
}

/** The stage's own thresholds, when set: the score so far may demand quarantine or reject. */
function thresholdDemand(cfg: Config['reputation']['content'], results: CheckResult[]): CheckResult[] {
  const score = results.reduce((s, r) => s + r.score, 0);
  const listed = results.filter((r) => r.check === 'reputation.uribl' && r.outcome === 'fail').length;
  const why = `reputation score ${score}${listed > 0 ? `, ${listed} listed domains` : ''}`;
  if (cfg.rejectAt !== undefined && score >= cfg.rejectAt) {
    return [demand(result('reputation', 'reputation.score', 'fail', `Message refused: ${why}`), 'reject', '5.7.1')];
  }
  if (cfg.quarantineAt !== undefined && score >= cfg.quarantineAt) {
    return [demand(result('reputation', 'reputation.score', 'fail', `Message held: ${why}`), 'quarantine', '5.7.1')];
  }
  return [];
}

/**
 * The reputation stage's checks on one message: local lists first (a block ends it with a
 * demand for 550 5.7.1; an allow skips the scoring), then the message's domains against the
 * URIBL/DBL lists, links through shorteners and to bare IPs, and what history says of the sender.
 */
export async function checkReputation(deps: CheckDeps, record: MailRecord, budget: RecordBudget = unbounded()): Promise<CheckResult[]> {
  const { meta } = record;
  const results: CheckResult[] = [];
  // Parsing and link extraction run in a worker (stoppable); a worker that is terminated or dies
  // rejects here and the stage's budget takes over: never read as "no links".
  const parts = await deps.links(record, deps.ours, MAX_LINKS, budget);
  if (parts.parseError !== undefined) {
    results.push(result('reputation', 'reputation.parse', 'error', `message could not be parsed for links: ${parts.parseError}`.slice(0, 200)));
  }
  const local = deps.local.check(meta.envelope, parts.from);
  if (local?.list === 'block') {
    return [...results, demand(result('reputation', 'reputation.local', 'fail', `Refused by local policy: ${local.entry} is blocked`), 'reject', '5.7.1')];
  }
  if (local?.list === 'allow') {
    return [...results, result('reputation', 'reputation.local', 'pass', `${local.entry} is allow-listed: reputation not scored`)];
  }
  const cfg = deps.config.content;
  const found = parts.found;
  const fromDomain = parts.from.length === 1 ? getDomain(domainOf(parts.from[0]!)) : null;
  // All at once: the list look-ups and the history read do not depend on each other.
  const [domains, addresses, history] = await Promise.all([
    cfg.lists.length > 0 ? checkDomains(deps, found.domains, cfg) : null,
    cfg.ipLists.length > 0 && found.ipLinks.length > 0 ? checkLinkAddresses(deps, found.ipLinks, { ...cfg, lists: cfg.ipLists, max: cfg.maxDomains }) : null,
    deps.history ? historyResults(deps.history, historySubjects(meta, fromDomain)) : [],
  ]);
  results.push(...(domains?.results ?? []), ...(addresses?.results ?? []), ...linkFlags(cfg, found.shorteners, found.ipLinks), ...history);
  return [...results, ...thresholdDemand(cfg, results)];
}
