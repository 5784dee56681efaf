import { domainOf, type Envelope } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import { NetworkList } from '@portcullis/networks';

type Entries = Config['reputation']['allow'];

/** Which entry of a list matched, said so that the operator finds it in the config. */
export type LocalMatch = string | null;

class CompiledEntries {
  private readonly ips: NetworkList;
  private readonly senders: Set<string>;
  private readonly domains: string[];
  private readonly recipients: Set<string>;

  constructor(e: Entries) {
    this.ips = new NetworkList(e.ips);
    this.senders = new Set(e.senders.map((s) => s.toLowerCase()));
    this.domains = e.senderDomains;
    this.recipients = new Set(e.recipients.map((r) => r.toLowerCase()));
  }

  match(envelope: Envelope, headerFrom: readonly string[]): LocalMatch {
    const ip = this.ips.match(envelope.client.ip);
    if (ip) return `client ${envelope.client.ip} (${ip})`;
    const senders = [envelope.mailFrom, ...headerFrom].map((s) => s.toLowerCase()).filter(Boolean);
    for (const s of senders) {
      if (this.senders.has(s)) return `sender <${s}>`;
      const domain = domainOf(s);
      const d = this.domains.find((x) => domain === x || domain.endsWith(`.${x}`));
      if (d) return `sender domain ${d}`;
    }
    const rcpt = envelope.rcptTo.find((r) => this.recipients.has(r.toLowerCase()));
    return rcpt ? `recipient <${rcpt.toLowerCase()}>` : null;
  }
}

/**
 * reputation.local: the operator's allow and block lists, by client address or network, sender
 * address (envelope or From header), sender domain (and its subdomains) and recipient. A block
 * entry wins over an allow entry: refusing is the explicit decision.
 */
export class LocalLists {
  private readonly allow: CompiledEntries;
  private readonly block: CompiledEntries;

  constructor(lists: Pick<Config['reputation'], 'allow' | 'block'>) {
    this.allow = new CompiledEntries(lists.allow);
    this.block = new CompiledEntries(lists.block);
  }

  check(envelope: Envelope, headerFrom: readonly string[]): { list: 'block' | 'allow'; entry: string } | null {
    const blocked = this.block.match(envelope, headerFrom);
    if (blocked) return { list: 'block', entry: blocked };
    const allowed = this.allow.match(envelope, headerFrom);
    return allowed ? { list: 'allow', entry: allowed } : null;
  }
}
