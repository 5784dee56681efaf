import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Addresses and CIDRs, compiled once; IPv4-mapped IPv6 clients match IPv4 entries. */
export class AddressList {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(entries: readonly string[]) {
    this.ranges = entries.map((e) => {
      if (e.includes('/')) return ipaddr.parseCIDR(e);
      const a = ipaddr.process(e);
      return [a, a.kind() === 'ipv4' ? 32 : 128];
    });
  }

  /** The entry that contains ip, as written (e.g. "192.0.2.0/24"), or null. */
  match(ip: string): string | null {
    if (!net.isIP(ip)) return null;
    const addr = ipaddr.process(ip);
    for (const [range, bits] of this.ranges) {
      if (range.kind() === addr.kind() && addr.match(range, bits)) return `${range.toString()}/${bits}`;
    }
    return null;
  }
}
