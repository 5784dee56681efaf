import type { AdminHandler, Logger } from '@portcullis/telemetry';
import type { QuarantineActions } from './quarantine.js';
import type { QuarantineQuery, QuarantineStore } from './quarantine-store.js';
import { safeView } from './quarantine-view.js';
import { timeBoundsError } from '../trace/admin-query.js';
import type { ReindexReport } from './quarantine-reindex.js';

const USAGE =
  'GET /admin/quarantine[?from=&rcpt=&subject=&reason=&since=&until=&limit=], GET /admin/quarantine/audit, POST /admin/quarantine/digests, POST /admin/quarantine/reindex, GET|DELETE /admin/quarantine/<id>, POST /admin/quarantine/<id>/release';

function queryOf(q: Record<string, string>): QuarantineQuery {
  const out: QuarantineQuery = {};
  for (const k of ['from', 'rcpt', 'subject', 'reason', 'since', 'until'] as const) if (q[k]) out[k] = q[k];
  if (q.limit) out.limit = Number(q.limit) || 50;
  return out;
}

const byOf = (body: unknown) => {
  const by = (body as { by?: unknown } | null)?.by;
  return typeof by === 'string' && by.trim() ? by.trim().slice(0, 100) : 'admin-api';
};

/** The quarantine on the admin port, behind the admin bearer token. */
export function quarantineAdmin(
  store: QuarantineStore,
  actions: QuarantineActions,
  log: Logger,
  runDigests?: () => Promise<number>,
  reindex?: () => Promise<ReindexReport>,
): AdminHandler {
  return async ({ method, path, body, query }) => {
    const [id, verb] = path;
    if (method === 'GET' && !id) {
      const q = queryOf(query ?? {});
      const badTime = timeBoundsError(q);
      return badTime ? { status: 400, body: { error: badTime } } : { status: 200, body: { messages: await store.search(q) } };
    }
    if (method === 'GET' && id === 'audit') return { status: 200, body: { audit: await store.auditLog(Number(query?.limit) || 100) } };
    if (method === 'POST' && id === 'digests' && runDigests) return { status: 200, body: { sent: await runDigests() } };
    if (method === 'POST' && id === 'reindex' && reindex) return { status: 200, body: { reindexed: await reindex() } };
    if (!id || !/^[0-9A-Z]{26}$/.test(id)) return { status: 400, body: { error: USAGE } };
    if (method === 'GET' && !verb) {
      const found = await actions.load(id);
      if (!found) return { status: 404, body: { error: `no quarantined message ${id}` } };
      return { status: 200, body: { entry: found.entry, message: await safeView(found.record.raw) } };
    }
    if (method === 'POST' && verb === 'release') {
      const done = await actions.release(id, byOf(body));
      if (!done) return { status: 404, body: { error: `no quarantined message ${id}` } };
      // Released before: nothing is sent again and nothing new is audited.
      if (done.already) return { status: 409, body: { error: `already released by ${done.entry.releasedBy} at ${done.entry.releasedAt}`, released: done.entry } };
      return { status: 200, body: { released: done.entry } };
    }
    if (method === 'DELETE' && !verb) {
      const removed = await actions.remove(id, byOf(body));
      return { status: removed ? 200 : 404, body: { id, deleted: removed } };
    }
    log.info({ method, path }, 'unknown quarantine request');
    return { status: 405, body: { error: USAGE } };
  };
}
