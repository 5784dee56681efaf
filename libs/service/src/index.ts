/**
 * What every service is started with (edge, auth, reputation, content, relay), in one type, so
 * that the wiring (apps/portcullis/src/services.ts) hands each the same things under the same
 * names. Its own lib rather than libs/bus: it names the config, the shared state and the DNS
 * layer, which the bus (a transport) must not depend on.
 */
import type { Bus, ExtraCheck, StageTrace } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import { createDnsResolver, type DnsResolver } from '@portcullis/dns';
import type { SharedState } from '@portcullis/state';
import type { AdminHandler, Logger, Registry } from '@portcullis/telemetry';

export interface ServiceDeps {
  config: Config;
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /** Redis in production, memory in embedded mode: counters, caches, reply channels. */
  state: SharedState;
  /** One resolver (and its memory cache) for the process; made from config.dns when absent (dnsOf). */
  dns?: DnsResolver;
  /** Registers operator endpoints under /admin on the admin HTTP port. */
  admin?: (area: string, handler: AdminHandler) => void;
  /** For sampling (DMARC pct=); Math.random when absent. */
  random?: () => number;
}

/** A checking stage's deps (auth, reputation, content): the service's, and what runStage takes beside them. */
export interface StageDeps extends ServiceDeps {
  /** The message trace: a record given up on over its budget is written there with the reason. */
  trace?: StageTrace;
  /** The operator's extra checks for the stage (stages.extraChecks). */
  extraChecks?: ExtraCheck[];
}

/** The deps' resolver, made from config.dns (and kept on deps, so all services of a process share one) when absent. */
export function dnsOf(deps: ServiceDeps): DnsResolver {
  deps.dns ??= createDnsResolver(deps.config.dns, { state: deps.state, registry: deps.registry, logger: deps.logger });
  return deps.dns;
}

/**
 * A service's metrics, made once per registry: prom-client refuses a second metric of the same
 * name in one registry, and the stage, its test helpers and the wiring may each ask for them.
 */
export function perRegistry<T>(make: (registry: Registry) => T): (registry: Registry) => T {
  const memo = new WeakMap<Registry, T>();
  return (registry) => {
    let m = memo.get(registry);
    if (m === undefined) {
      m = make(registry);
      memo.set(registry, m);
    }
    return m;
  };
}
