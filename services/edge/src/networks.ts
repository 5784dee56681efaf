/**
 * Client addresses and networks for flow control and the AUTH lockout: one canonical form per
 * address (so "::ffff:192.0.2.1" and "192.0.2.1" share their counters), the network an address
 * belongs to (its /24 or /64 by default), and lists of CIDRs matched by longest prefix.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseCidr } from './proxy-protocol.js';

export interface ClientAddress {
  /** Canonical text: IPv4 dotted quad (IPv4-mapped IPv6 included), IPv6 compressed lower case. */
  ip: string;
  parsed: ipaddr.IPv4 | ipaddr.IPv6;
}

/** Parses a socket's remote address; null for anything that is not an IP address. */
export function clientAddress(address: string | null | undefined): ClientAddress | null {
  if (!address || !net.isIP(address)) return null;
  try {
    const parsed = ipaddr.process(address);
    if (parsed instanceof ipaddr.IPv6) delete parsed.zoneId;
    return { ip: parsed.toString(), parsed };
  } catch {
    return null;
  }
}

/** The network an address belongs to, as "192.0.2.0/24" or "2001:db8:1:2::/64". */
export function networkOf(addr: ClientAddress, prefix: { ipv4: number; ipv6: number }): string {
  const bits = addr.parsed.kind() === 'ipv4' ? prefix.ipv4 : prefix.ipv6;
  const bytes = addr.parsed.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${bits}`;
}

/** A list of CIDRs (or single addresses), compiled once; throws on an invalid entry. */
export class NetworkList {
  private readonly networks: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(cidrs: readonly string[]) {
    this.networks = cidrs.map(parseCidr);
  }

  get size(): number {
    return this.networks.length;
  }

  /** Prefix length of the most specific entry containing addr, or -1 when none does. */
  longestMatch(addr: ClientAddress): number {
    let best = -1;
    for (const [network, bits] of this.networks) {
      if (bits > best && network.kind() === addr.parsed.kind() && addr.parsed.match(network, bits)) best = bits;
    }
    return best;
  }

  contains(addr: ClientAddress): boolean {
    return this.longestMatch(addr) >= 0;
  }
}
