import { Topics } from '@portcullis/contract';
import { passThroughStage, runStage, type Bus, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { Logger, Registry } from '@portcullis/telemetry';

export interface AuthDeps {
  config: Config;
  bus: Bus;
  logger: Logger;
  registry: Registry;
}

/**
 * The auth stage: SPF, DKIM, DMARC, ARC and BIMI belong here (their own issue).
 * Until they land it hands every record on unchanged, adding no result, so
 * nothing downstream mistakes an unchecked message for a checked one.
 */
export async function startAuth(deps: AuthDeps): Promise<Subscription> {
  const stage = passThroughStage({ name: 'auth', from: Topics.accepted, to: Topics.authChecked, concurrency: deps.config.stages.concurrency });
  return runStage(deps.bus, stage, deps);
}
