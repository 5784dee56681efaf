import Fastify, { type FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { listenAs } from './bind-error.js';

/** A readiness probe: returns null when ready, or why not. */
export type ReadinessCheck = () => string | null;

export interface HealthServer {
  addReadiness(name: string, check: ReadinessCheck): void;
  /**
   * A shared dependency (kafka, redis) shown in /healthz's details and in the metric
   * portcullis_dependency_up; it gates /readyz only where it is also added as a readiness check.
   */
  addDependency(name: string, check: ReadinessCheck): void;
  /** Marks the process as going away: /readyz fails so no new work is routed here. */
  draining(): void;
  address(): { host: string; port: number };
  close(): Promise<void>;
}

/**
 * /healthz (alive), /readyz (ready for traffic), /metrics (Prometheus), and nothing else: the
 * admin API has a listener of its own (admin-http.ts), so whoever may scrape metrics or probe
 * health reaches no operator action here (/admin/... answers 404 like any unknown path).
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  logger: Logger;
  /** The config key of this address, named when it cannot be bound (default http.listen). */
  configKey?: string;
  /** Said after "already in use": how to give this process another port. */
  inUseHint?: string;
}): Promise<HealthServer> {
  const checks = new Map<string, ReadinessCheck>();
  let isDraining = false;
  const app: FastifyInstance = Fastify({ logger: false });

  const dependencies = new Map<string, ReadinessCheck>();
  new Gauge({
    name: 'portcullis_dependency_up',
    help: 'Whether a shared dependency (kafka, redis) is usable from this process (1) or not (0)',
    labelNames: ['dependency'],
    registers: [opts.registry],
    collect() {
      for (const [name, check] of dependencies) this.set({ dependency: name }, check() ? 0 : 1);
    },
  });

  // Alive says nothing about dependencies (a restart would not bring them back); the details do.
  app.get('/healthz', async () => {
    if (dependencies.size === 0) return { status: 'ok' };
    const details: Record<string, { up: boolean; problem?: string }> = {};
    for (const [name, check] of dependencies) {
      const why = check();
      details[name] = why ? { up: false, problem: why } : { up: true };
    }
    return { status: 'ok', dependencies: details };
  });
  app.get('/readyz', async (_req, reply) => {
    const failing: Record<string, string> = {};
    if (isDraining) failing.process = 'shutting down';
    for (const [name, check] of checks) {
      const why = check();
      if (why) failing[name] = why;
    }
    const ready = Object.keys(failing).length === 0;
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready' } : { status: 'not ready', failing });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
  // Fastify's own 404 echoes the URL with its query; say nothing about what was asked.
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ error: 'not found' }));

  await listenAs(opts.configKey ?? 'http.listen', opts.host, opts.port, () => app.listen({ host: opts.host, port: opts.port }), opts.inUseHint);
  const port = boundPort(app, opts.port);
  opts.logger.info({ host: opts.host, port }, 'health and metrics listening');
  return {
    addReadiness: (name, check) => void checks.set(name, check),
    addDependency: (name, check) => void dependencies.set(name, check),
    draining: () => void (isDraining = true),
    address: () => ({ host: opts.host, port }),
    close: () => app.close(),
  };
}

/** The port the server got (the one asked for, or the one the system chose for port 0). */
export function boundPort(app: FastifyInstance, asked: number): number {
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : asked;
}
