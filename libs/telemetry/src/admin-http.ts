import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { boundPort } from './http.js';
import { requestPath } from './request-path.js';
import { listenAs } from './bind-error.js';

/** An operator action under /admin/<area>/...; the rest of the path comes as `path`. */
export type AdminHandler = (req: { method: string; path: string[]; body: unknown; query?: Record<string, string> }) => Promise<{ status: number; body: unknown }>;

export interface AdminServer {
  /** Serves /admin/<area>/... with the handler, behind the bearer token. */
  addAdmin(area: string, handler: AdminHandler): void;
  address(): { host: string; port: number };
  close(): Promise<void>;
}

/**
 * The admin API on a listener of its own (http.admin.listen). `token` is called at each request,
 * so a rotated token file takes effect without a restart; it throws when the token cannot be read.
 * Nothing about the token or the query string is ever logged.
 */
export async function startAdminServer(opts: {
  host: string;
  port: number;
  token: () => Promise<string>;
  logger: Logger;
  /** The config key of this address, named when it cannot be bound (default http.admin.listen). */
  configKey?: string;
  inUseHint?: string;
}): Promise<AdminServer> {
  const areas = new Map<string, AdminHandler>();
  const app: FastifyInstance = Fastify({ logger: false });

  // One route for every area: fastify takes no routes once listening, and services start later.
  app.all('/admin/*', async (req, reply) => {
    const path = requestPath(req.url);
    let token: string;
    try {
      token = await opts.token();
    } catch (err) {
      opts.logger.error({ error: (err as Error).message }, 'admin request refused: the admin token cannot be read');
      return reply.code(503).send({ error: 'admin token unavailable' });
    }
    if (!tokenMatches(req.headers.authorization, token)) {
      opts.logger.warn({ client: req.ip, method: req.method, path }, 'admin request refused: bad or missing token');
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    }
    const parts = (req.params as { '*': string })['*'].split('/').filter(Boolean).map(decodeURIComponent);
    const handler = areas.get(parts[0] ?? '');
    if (!handler) return reply.code(404).send({ error: `no admin area ${parts[0] ?? ''} in this process`, areas: [...areas.keys()] });
    const query = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const res = await handler({ method: req.method, path: parts.slice(1), body: req.body, query });
    opts.logger.info({ client: req.ip, method: req.method, path, status: res.status }, 'admin request');
    return reply.code(res.status).send(res.body);
  });
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ error: 'not found' }));

  await listenAs(opts.configKey ?? 'http.admin.listen', opts.host, opts.port, () => app.listen({ host: opts.host, port: opts.port }), opts.inUseHint);
  const port = boundPort(app, opts.port);
  opts.logger.info({ host: opts.host, port }, 'admin API listening');
  return {
    addAdmin: (area, handler) => void areas.set(area, handler),
    address: () => ({ host: opts.host, port }),
    close: () => app.close(),
  };
}

/** Compares digests, so the comparison takes the same time whatever the given token's length. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0 && token.length > 0;
}
