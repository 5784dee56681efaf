/**
 * Building an edge for tests (`@portcullis/edge/testing`, never imported by service code): the
 * edge's own tests and the e2e tests start one on loopback with the in-process bus and state.
 */
import { MemoryBus } from '@portcullis/bus';
import { ConfigSchema, type Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import { MemoryState } from '@portcullis/state';
import { createLogger, createRegistry, type Registry } from '@portcullis/telemetry';
import { startEdge, type Edge } from './edge.js';

export { hashPassword } from './login/password-hash.js';

export interface TestEdgeOptions {
  /** Config sections over the defaults (one accepted domain, example.test; MX on 127.0.0.1, a free port; no verdict wait; silent log). */
  config?: Record<string, unknown>;
  dns?: DnsResolver;
  /** Default: a registry of its own. */
  registry?: Registry;
  dnsblExempt?: readonly string[];
}

export interface TestEdge {
  edge: Edge;
  config: Config;
  bus: MemoryBus;
  state: MemoryState;
  registry: Registry;
}

/** Starts an edge on loopback; `edge.stop()` ends it. */
export async function startTestEdge(options: TestEdgeOptions = {}): Promise<TestEdge> {
  const { smtp, ...rest } = options.config ?? {};
  const config = ConfigSchema.parse({
    domains: [{ name: 'example.test' }],
    log: { level: 'silent' },
    ...rest,
    smtp: { verdictTimeoutMs: 0, ...(smtp as object | undefined), mx: { listen: { host: '127.0.0.1', port: 0 }, ...(smtp as { mx?: object } | undefined)?.mx } },
  });
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const state = new MemoryState({ maxEntries: 1000 });
  const registry = options.registry ?? createRegistry();
  const edge = await startEdge({
    config,
    bus,
    state,
    registry,
    logger: createLogger({ level: 'silent', service: 'test' }),
    ...(options.dns ? { dns: options.dns } : {}),
    ...(options.dnsblExempt ? { dnsblExempt: options.dnsblExempt } : {}),
  });
  return { edge, config, bus, state, registry };
}
