import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** A readiness probe: returns null when ready, or why not. */
export type ReadinessCheck = () => string | null;

export interface HealthServer {
  addReadiness(name: string, check: ReadinessCheck): void;
  /** Marks the process as going away: /readyz fails so no new work is routed here. */
  draining(): void;
  address(): { host: string; port: number };
  close(): Promise<void>;
}

/** /healthz (alive), /readyz (ready for traffic), /metrics (Prometheus). */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  logger: Logger;
}): Promise<HealthServer> {
  const checks = new Map<string, ReadinessCheck>();
  let isDraining = false;
  const app: FastifyInstance = Fastify({ logger: false });

  app.get('/healthz', async () => ({ status: 'ok' }));
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

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  opts.logger.info({ host: opts.host, port }, 'health and metrics listening');
  return {
    addReadiness: (name, check) => void checks.set(name, check),
    draining: () => void (isDraining = true),
    address: () => ({ host: opts.host, port }),
    close: () => app.close(),
  };
}
