import dns from 'node:dns';
import net from 'node:net';

export interface DnsServer {
  host: string;
  port: number;
}

/** "host", "host:port", "[v6]:port" or a bare IPv6 address. */
export function parseServer(spec: string): DnsServer {
  const s = spec.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (net.isIPv6(s)) return { host: s, port: 53 };
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`not a DNS server (host:port): ${spec}`);
  const port = Number(m[2] ?? 53);
  if (port < 1 || port > 65535) throw new Error(`bad port in DNS server ${spec}`);
  return { host: m[1]!, port };
}

/**
 * The servers to ask: PORTCULLIS_DNS_SERVERS (comma-separated) overrides the config;
 * with neither, the system's resolvers (what /etc/resolv.conf names, as Node reads it).
 */
export function resolveServers(configured: readonly string[], env: NodeJS.ProcessEnv = process.env): DnsServer[] {
  const fromEnv = (env.PORTCULLIS_DNS_SERVERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const specs = fromEnv.length ? fromEnv : configured.length ? [...configured] : dns.getServers();
  const servers = specs.map(parseServer);
  if (!servers.length) throw new Error('no DNS servers: set dns.servers or PORTCULLIS_DNS_SERVERS (the system has none)');
  return servers;
}
