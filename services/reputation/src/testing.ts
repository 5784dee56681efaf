/**
 * Building the reputation stage in tests (`@portcullis/reputation/testing`, never imported by
 * service code): the stage's check deps over a given resolver, with the message parsed in a worker
 * pool as in the stage (close it after the tests).
 */
import { ConfigSchema, type Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import type { SharedState } from '@portcullis/state';
import { createLogger, createRegistry, type Registry } from '@portcullis/telemetry';
import { WorkerPool } from '@portcullis/workers';
import { LINKS_TASK, workerLinkReader } from './links-reader.js';
import { LocalLists } from './local-lists.js';
import { reputationMetrics } from './metrics.js';
import type { CheckDeps } from './reputation-check.js';
import { SenderHistory } from './sender-history.js';

/** A small parsing pool for tests (two workers). */
export function testPool(registry: Registry = createRegistry()): WorkerPool {
  return new WorkerPool({ name: 'reputation', module: LINKS_TASK, size: 2, maxQueued: 64, registry, logger: createLogger({ level: 'silent', service: 'test' }) });
}

export interface TestCheckOptions {
  dns: DnsResolver;
  pool: WorkerPool;
  /** The reputation section as an operator writes it. */
  reputation?: Record<string, unknown>;
  /** Sender history in this state when given. */
  state?: SharedState;
  /** The look-ups counted here when given (as the stage counts them). */
  registry?: Registry;
  ours?: string[];
}

/** The deps checkReputation takes, as the stage builds them (checkDepsOf), from a reputation section. */
export function testCheckDeps(o: TestCheckOptions): CheckDeps & { config: Config['reputation'] } {
  const config = ConfigSchema.shape.reputation.parse(o.reputation ?? {});
  return {
    links: workerLinkReader(o.pool),
    dns: o.dns,
    ...(o.registry ? { metrics: reputationMetrics(o.registry).lookups } : {}),
    config,
    ours: new Set(o.ours ?? ['example.test']),
    local: new LocalLists(config),
    history: o.state ? new SenderHistory(o.state, config.history) : null,
  };
}
