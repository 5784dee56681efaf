import { Topics } from '@portcullis/contract';
import { passThroughStage, runStage, type Bus, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { Logger, Registry } from '@portcullis/telemetry';

export interface ReputationDeps {
  config: Config;
  bus: Bus;
  logger: Logger;
  registry: Registry;
}

/**
 * The reputation stage: URIBL/DBL look-ups, allow and block lists and sender
 * history belong here (their own issue). Until they land it hands every record
 * on unchanged and adds no result.
 */
export async function startReputation(deps: ReputationDeps): Promise<Subscription> {
  const stage = passThroughStage({ name: 'reputation', from: Topics.authChecked, to: Topics.reputationChecked, concurrency: deps.config.stages.concurrency });
  return runStage(deps.bus, stage, deps);
}
