import { clientAddress, type ClientAddress } from './address.js';
import { parseCidr, type Network } from './cidr.js';

/** A list of CIDRs (or single addresses), compiled once; throws on an invalid entry. */
export class NetworkList {
  private readonly networks: Network[];

  constructor(cidrs: readonly string[]) {
    this.networks = cidrs.map(parseCidr);
  }

  get size(): number {
    return this.networks.length;
  }

  /** The most specific entry containing addr, or null when none does. */
  private best(addr: ClientAddress): Network | null {
    let best: Network | null = null;
    for (const n of this.networks) {
      const [network, bits] = n;
      if ((!best || bits > best[1]) && network.kind() === addr.parsed.kind() && addr.parsed.match(network, bits)) best = n;
    }
    return best;
  }

  /** Prefix length of the most specific entry containing addr, or -1 when none does. */
  longestMatch(addr: ClientAddress): number {
    return this.best(addr)?.[1] ?? -1;
  }

  contains(addr: ClientAddress): boolean {
    return this.best(addr) !== null;
  }

  /** The most specific entry containing ip, as "192.0.2.0/24", or null (also for what is not an address). */
  match(ip: string | null | undefined): string | null {
    const addr = clientAddress(ip);
    const n = addr && this.best(addr);
    return n ? `${n[0].toString()}/${n[1]}` : null;
  }
}
