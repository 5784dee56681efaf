import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import type { DnsResolver } from './resolver.js';
import { resolveServers } from './servers.js';
import { AnswerCache } from './cache.js';
import { dnsMetrics } from './metrics.js';
import { WireResolver } from './wire-resolver.js';

export interface DnsDeps {
  state?: SharedState;
  registry: Registry;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * The resolver a service uses, from the `dns` config section: servers (or
 * PORTCULLIS_DNS_SERVERS, or the system's), timeouts, the memory cache and,
 * with a state store and dns.cache.shared, the cache shared through it.
 */
export function createDnsResolver(config: Config['dns'], deps: DnsDeps): DnsResolver {
  const log = deps.logger?.child({ component: 'dns' });
  let warned = 0;
  const cache = new AnswerCache({
    memoryEntries: config.cache.memoryEntries,
    minTtlSeconds: config.cache.minTtlSeconds,
    maxTtlSeconds: config.cache.maxTtlSeconds,
    state: config.cache.shared ? deps.state : undefined,
    onSharedError: (err) => {
      // At most one warning a minute: the look-up itself goes on without the shared cache.
      if (Date.now() - warned > 60_000) {
        warned = Date.now();
        log?.warn({ error: err.message }, 'shared DNS cache unavailable, asking the servers');
      }
    },
  });
  return new WireResolver({
    servers: resolveServers(config.servers, deps.env),
    timeoutMs: config.timeoutMs,
    attempts: config.attempts,
    maxInFlight: config.maxInFlight,
    negativeTtlSeconds: config.cache.negativeTtlSeconds,
    cache,
    metrics: dnsMetrics(deps.registry),
    logger: log,
  });
}
