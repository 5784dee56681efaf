import { Topics } from '@portcullis/contract';
import { runStage, type StageDefinition, type Subscription } from '@portcullis/bus';
import { NetworkList } from '@portcullis/networks';
import { dnsOf, type StageDeps } from '@portcullis/service';
import { authenticateRecord } from './record-auth.js';
import { authMetrics } from './metrics.js';
import { loadSealKey } from './seal-key.js';

/** The service's deps (dns: the DNS layer built from config.dns when absent; random: pct= sampling). */
export type AuthDeps = StageDeps;

export { authenticateRecord } from './record-auth.js';
export { authMetrics } from './metrics.js';
export { stripForgedResults, authservIdOf } from './headers.js';

/**
 * The auth stage: SPF, DKIM, DMARC, ARC and BIMI, the Authentication-Results header, and the policy's demands.
 *
 * It runs on the main thread under the stage budget, with no parsing worker: mailauth interleaves
 * its parsing with DNS look-ups through our resolver (its caches, the shared state, the message's
 * deadline signal), which cannot cross into a worker without proxying every query. Its CPU work is
 * bounded by what the edge admits: it reads the header section (at most smtp.limits.maxHeaderBytes, 256 KiB by default) and
 * hashes the body in stream chunks (native SHA-256). Our own header work (headers.ts) is byte
 * edits of that same bounded header section. So the budget here can only abandon a verification
 * that waits too long (each look-up and the whole already have deadlines); the regular
 * expressions it runs are the parsers' lint's to keep linear.
 */
export function authStage(deps: AuthDeps): StageDefinition {
  const resolver = dnsOf(deps);
  const seal = loadSealKey(deps.config.authentication.arc.seal);
  const metrics = authMetrics(deps.registry);
  const trusted = new NetworkList(deps.config.authentication.trustedNetworks);
  const logger = deps.logger.child({ stage: 'auth' });
  return {
    name: 'auth',
    group: 'portcullis-auth',
    from: Topics.accepted,
    concurrency: deps.config.stages.concurrency,
    budgeted: true,
    process: async (record) => {
      const checked = await authenticateRecord(record, { config: deps.config, resolver, logger, metrics, seal, trusted, random: deps.random });
      return { outputs: [{ topic: Topics.authChecked, record: checked }] };
    },
  };
}

export async function startAuth(deps: AuthDeps): Promise<Subscription> {
  return runStage(deps.bus, authStage(deps), deps);
}
