import type { AdminHandler } from '@portcullis/telemetry';
import type { MessageTraceReader, TraceQuery } from '@portcullis/message-trace';
import { timeBoundsError } from './admin-query.js';

const USAGE = 'GET /admin/trace[?id=&messageId=&from=&rcpt=&ip=&since=&until=&limit=] or GET /admin/trace/<id>';

/** The message trace on the admin port: search, and one message's timeline. */
export function traceAdmin(reader: MessageTraceReader): AdminHandler {
  return async ({ method, path, query = {} }) => {
    if (method !== 'GET') return { status: 405, body: { error: USAGE } };
    if (path.length === 1) {
      const t = await reader.timeline(path[0]!);
      return t ? { status: 200, body: t } : { status: 404, body: { error: `no trace for ${path[0]}` } };
    }
    const q: TraceQuery = {};
    for (const k of ['id', 'messageId', 'from', 'rcpt', 'ip', 'since', 'until'] as const) if (query[k]) q[k] = query[k];
    if (query.limit) q.limit = Number(query.limit) || 50;
    const badTime = timeBoundsError(q);
    if (badTime) return { status: 400, body: { error: badTime } };
    return { status: 200, body: { messages: await reader.search(q) } };
  };
}
