import ipaddr from 'ipaddr.js';

export type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses "10.0.0.0/8", "2001:db8::/64", or a bare address (a single host). IPv4 must be in dotted
 * decimal with four parts; an IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) becomes the IPv4 one.
 * Throws on anything else, so a typo in the configuration stops the start instead of trusting nobody
 * (or everybody).
 */
export function parseCidr(cidr: string): Network {
  const text = cidr.trim();
  const slash = text.lastIndexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? null : text.slice(slash + 1);
  if (bitsText !== null && !/^[0-9]{1,3}$/.test(bitsText)) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: bad prefix length`);
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    const bits = bitsText === null ? 32 : Number(bitsText);
    if (bits > 32) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: prefix longer than 32`);
    return [ipaddr.IPv4.parse(address), bits];
  }
  if (!address.includes('%') && ipaddr.IPv6.isValid(address)) {
    const bits = bitsText === null ? 128 : Number(bitsText);
    if (bits > 128) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: prefix longer than 128`);
    const v6 = ipaddr.IPv6.parse(address);
    if (v6.isIPv4MappedAddress() && bits >= 96) return [v6.toIPv4Address(), bits - 96];
    return [v6, bits];
  }
  throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: not an IPv4 or IPv6 address`);
}
