import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** A readiness probe: returns null when ready, or why not. */
export type ReadinessCheck = () => string | null;

/** An operator action under /admin/<area>/...; the rest of the path comes as `path`. */
export type AdminHandler = (req: { method: string; path: string[]; body: unknown; query?: Record<string, string> }) => Promise<{ status: number; body: unknown }>;

export interface HealthServer {
  addReadiness(name: string, check: ReadinessCheck): void;
  /** Serves /admin/<area>/... with the handler, behind the admin bearer token. */
  addAdmin(area: string, handler: AdminHandler): void;
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
  /** Bearer token for /admin; without one the admin API is off. */
  adminToken?: string;
}): Promise<HealthServer> {
  const checks = new Map<string, ReadinessCheck>();
  const admin = new Map<string, AdminHandler>();
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

  // One route for every admin area: fastify takes no routes once listening, and services start later.
  app.all('/admin/*', async (req, reply) => {
    if (!opts.adminToken) return reply.code(404).send({ error: 'admin API is off (set http.adminTokenFile)' });
    if (!tokenMatches(req.headers.authorization, opts.adminToken)) {
      opts.logger.warn({ client: req.ip, path: req.url }, 'admin request refused: bad or missing token');
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    }
    const parts = (req.params as { '*': string })['*'].split('/').filter(Boolean).map(decodeURIComponent);
    const handler = admin.get(parts[0] ?? '');
    if (!handler) return reply.code(404).send({ error: `no admin area ${parts[0] ?? ''}` });
    const query = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const res = await handler({ method: req.method, path: parts.slice(1), body: req.body, query });
    opts.logger.info({ client: req.ip, method: req.method, path: req.url, status: res.status }, 'admin request');
    return reply.code(res.status).send(res.body);
  });

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  opts.logger.info({ host: opts.host, port }, 'health and metrics listening');
  return {
    addReadiness: (name, check) => void checks.set(name, check),
    addAdmin: (area, handler) => void admin.set(area, handler),
    draining: () => void (isDraining = true),
    address: () => ({ host: opts.host, port }),
    close: () => app.close(),
  };
}

/** Compares digests so the comparison takes the same time whatever the token's length. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
