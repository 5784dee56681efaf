import type { CheckResult } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import { checkClientIp, lookupMetrics, type ClientIpPolicy, type LookupMetrics } from '@portcullis/dnsbl';
import { because, connect, type Refusal } from '@portcullis/smtp-replies';
import { Counter, type Logger, type Registry } from '@portcullis/telemetry';
import { clientAddress, NetworkList } from '@portcullis/networks';

export type DnsblDecision = { action: 'pass' } | { action: 'tarpit'; delayMs: number } | { action: 'refuse'; refusal: Refusal };

const PASS: DnsblDecision = { action: 'pass' };

/**
 * connect.dnsbl: before the greeting, the client address against the DNSBLs and DNSWLs of
 * connect.dnsbl. The summed weight refuses (554 5.7.1 naming the lists), delays the greeting
 * (a tarpit: bulk senders hang up, real MTAs wait), or passes; every list's answer is kept for
 * the session and recorded in each message's results (stage "connect"). A DNS failure is an
 * unknown answer and never refuses. Allow-listed networks (flow.allow, and the exemptions the
 * gateway passes in: reputation.allow.ips) are not looked up.
 */
export class ConnectDnsbl {
  private readonly policy: ClientIpPolicy;
  private readonly exempt: NetworkList;
  private readonly metrics: LookupMetrics;
  private readonly decisions: Counter<'decision'>;
  /** Results per open session; entries leave at onClose, so this is bounded by smtp.maxClients. */
  private readonly sessions = new Map<string, CheckResult[]>();

  constructor(private readonly deps: { config: Config; exempt: readonly string[]; dns?: DnsResolver | undefined; registry: Registry; logger: Logger }) {
    const c = deps.config.connect.dnsbl;
    this.policy = { lists: c.lists, refuseAt: c.refuseAt, tarpitAt: c.tarpitAt, timeoutMs: c.timeoutMs, deadlineMs: c.deadlineMs };
    this.exempt = new NetworkList([...deps.config.flow.allow, ...deps.exempt]);
    this.metrics = lookupMetrics(deps.registry);
    this.decisions = new Counter({
      name: 'portcullis_edge_dnsbl_decisions_total',
      help: 'Connect-time DNSBL decisions: refuse, tarpit, pass, or skip (allow-listed, no lists)',
      labelNames: ['decision'],
      registers: [deps.registry],
    });
    if (c.lists.length > 0 && !deps.dns) throw new Error('connect.dnsbl.lists are configured but the edge has no DNS resolver');
  }

  async onConnect(ip: string, sessionId: string): Promise<DnsblDecision> {
    const addr = clientAddress(ip);
    if (!this.deps.dns || this.policy.lists.length === 0 || !addr || this.exempt.contains(addr)) {
      this.decisions.inc({ decision: 'skip' });
      return PASS;
    }
    const v = await checkClientIp({ dns: this.deps.dns, metrics: this.metrics }, addr.ip, this.policy);
    this.sessions.set(sessionId, v.results);
    this.decisions.inc({ decision: v.decision });
    if (v.decision === 'pass') return PASS;
    this.deps.logger.info({ client: addr.ip, score: v.score, lists: v.listedBy, decision: v.decision }, 'client listed');
    if (v.decision === 'tarpit') return { action: 'tarpit', delayMs: this.deps.config.connect.dnsbl.tarpitMs };
    return { action: 'refuse', refusal: because(connect.dnsbl.refuse(addr.ip, v.listedBy), 'dnsbl') };
  }

  /** The connect-time results, for each message of the session. */
  results(sessionId: string): CheckResult[] {
    return this.sessions.get(sessionId) ?? [];
  }

  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }
}
