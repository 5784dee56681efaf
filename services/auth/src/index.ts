import { Topics } from '@portcullis/contract';
import { runStage, type Bus, type StageDefinition, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import { createDnsResolver, type DnsResolver } from '@portcullis/dns';
import { NetworkList } from '@portcullis/networks';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import { authenticateRecord } from './record-auth.js';
import { authMetrics } from './metrics.js';
import { loadSealKey } from './seal-key.js';

export interface AuthDeps {
  config: Config;
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /** For the DNS cache shared between replicas. */
  state?: SharedState;
  /** By default the DNS layer built from config.dns. */
  resolver?: DnsResolver;
  /** pct= sampling; Math.random by default. */
  random?: () => number;
}

export { authenticateRecord } from './record-auth.js';
export { authMetrics } from './metrics.js';
export { stripForgedResults, authservIdOf } from './headers.js';

/** The auth stage: SPF, DKIM, DMARC, ARC and BIMI, the Authentication-Results header, and the policy's demands. */
export function authStage(deps: AuthDeps): StageDefinition {
  const resolver = deps.resolver ?? createDnsResolver(deps.config.dns, { state: deps.state, registry: deps.registry, logger: deps.logger });
  const seal = loadSealKey(deps.config.authentication.arc.seal);
  const metrics = authMetrics(deps.registry);
  const trusted = new NetworkList(deps.config.authentication.trustedNetworks);
  const logger = deps.logger.child({ stage: 'auth' });
  return {
    name: 'auth',
    group: 'portcullis-auth',
    from: Topics.accepted,
    concurrency: deps.config.stages.concurrency,
    process: async (record) => {
      const checked = await authenticateRecord(record, { config: deps.config, resolver, logger, metrics, seal, trusted, random: deps.random });
      return { outputs: [{ topic: Topics.authChecked, record: checked }] };
    },
  };
}

export async function startAuth(deps: AuthDeps): Promise<Subscription> {
  return runStage(deps.bus, authStage(deps), deps);
}
