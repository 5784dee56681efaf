import net from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ClientAddress {
  /** Canonical text: IPv4 dotted quad (IPv4-mapped IPv6 included), IPv6 compressed lower case. */
  ip: string;
  parsed: ipaddr.IPv4 | ipaddr.IPv6;
}

/**
 * Parses an address as a socket reports it; null for anything that is not an IP address.
 * IPv4-mapped IPv6 (what a dual-stack listener reports for an IPv4 peer) becomes plain IPv4,
 * so "::ffff:192.0.2.1" and "192.0.2.1" are one client; a zone id is dropped.
 */
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

/** Canonical text of an address (RFC 5952 for IPv6), or null when it is not one. */
export function normalizeIp(address: string | null | undefined): string | null {
  return clientAddress(address)?.ip ?? null;
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
