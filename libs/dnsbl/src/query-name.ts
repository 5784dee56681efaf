import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The name to ask a list about an address (RFC 5782 2.1 and 2.4): IPv4 octets reversed,
 * IPv6 as 32 reversed nibbles. An IPv4-mapped IPv6 address is asked as IPv4 (that is how the
 * client really connected). null for anything that is not an address.
 */
export function ipQueryName(ip: string, zone: string): string | null {
  if (!net.isIP(ip)) return null;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return null;
  }
  if (addr.kind() === 'ipv4') return `${addr.toByteArray().reverse().join('.')}.${zone}`;
  const nibbles: string[] = [];
  for (const byte of addr.toByteArray()) nibbles.push((byte >> 4).toString(16), (byte & 0xf).toString(16));
  return `${nibbles.reverse().join('.')}.${zone}`;
}

/** The name to ask a domain list (RFC 5782 2.3): the registered domain, lower case, before the zone. */
export function domainQueryName(domain: string, zone: string): string {
  return `${domain.toLowerCase().replace(/\.$/, '')}.${zone}`;
}
