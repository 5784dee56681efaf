import type { AdminHandler, Logger } from '@portcullis/telemetry';
import type { DeadLetterReader } from './reader.js';

const USAGE = 'GET /admin/dead-letter[?partition=&from=&limit=], GET /admin/dead-letter/<partition>/<offset>, POST /admin/dead-letter/<partition>/<offset>/replay {"by": NAME}';
const MAX_LIMIT = 500;

type Answer = { status: number; body: unknown };
const bad = (field: string, message: string): Answer => ({ status: 400, body: { error: `${field}: ${message}`, field } });

/** A partition number, or an answer naming the field. */
function partitionOf(raw: string | undefined, field = 'partition'): number | Answer {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return bad(field, `expected a partition number, got ${JSON.stringify(raw ?? '')}`);
  return Number(raw);
}

function offsetOf(raw: string | undefined, field = 'offset'): string | Answer {
  if (raw === undefined || !/^\d{1,19}$/.test(raw)) return bad(field, `expected an offset (digits), got ${JSON.stringify(raw ?? '')}`);
  return String(BigInt(raw));
}

const isAnswer = (v: unknown): v is Answer => typeof v === 'object' && v !== null && 'status' in v;

function byOf(body: unknown): string | Answer {
  const by = (body as { by?: unknown } | null)?.by;
  if (by === undefined) return 'admin-api';
  if (typeof by !== 'string' || !by.trim() || by.length > 100 || /[\u0000-\u001f\u007f]/.test(by)) return bad('by', 'expected a name of 1 to 100 printable characters');
  return by.trim();
}

/** The dead-letter topic on the admin API, behind the admin bearer token. */
export function deadLetterAdmin(reader: DeadLetterReader, log: Logger): AdminHandler {
  return async ({ method, path, body, query = {} }) => {
    const [p, o, verb, ...rest] = path;
    if (method === 'GET' && p === undefined) {
      const opts: { partition?: number; from?: string; limit: number } = { limit: 50 };
      if (query.partition !== undefined) {
        const partition = partitionOf(query.partition);
        if (isAnswer(partition)) return partition;
        opts.partition = partition;
      }
      if (query.from !== undefined) {
        const from = offsetOf(query.from, 'from');
        if (isAnswer(from)) return from;
        opts.from = from;
      }
      if (query.limit !== undefined) {
        const limit = Number(query.limit);
        if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_LIMIT) return bad('limit', `expected 1 to ${MAX_LIMIT}, got ${JSON.stringify(query.limit)}`);
        opts.limit = limit;
      }
      const listed = await reader.list(opts);
      if (opts.partition !== undefined && listed.partitions.length === 0)
        return { status: 404, body: { error: `no partition ${opts.partition} in the dead-letter topic`, field: 'partition' } };
      return { status: 200, body: listed };
    }
    if (p === undefined || o === undefined || rest.length > 0) return { status: 400, body: { error: USAGE } };
    const partition = partitionOf(p);
    if (isAnswer(partition)) return partition;
    const offset = offsetOf(o);
    if (isAnswer(offset)) return offset;
    const missing = { status: 404, body: { error: `no dead-letter record at partition ${partition} offset ${offset}` } };
    if (method === 'GET' && verb === undefined) {
      const shown = await reader.show(partition, offset);
      return shown ? { status: 200, body: shown } : missing;
    }
    if (method === 'POST' && verb === 'replay') {
      const by = byOf(body);
      if (isAnswer(by)) return by;
      const out = await reader.replay(partition, offset, by);
      switch (out.kind) {
        case 'not-found':
          return missing;
        case 'already-replayed':
          return { status: 409, body: { error: `already replayed to ${out.marker.to} by ${out.marker.by} at ${out.marker.at}; a record is replayed once`, replayed: out.marker } };
        case 'not-replayable':
          return { status: 422, body: { error: `cannot replay: ${out.reason}` } };
        case 'replayed':
          return { status: 200, body: { replayed: out.marker, record: out.record } };
      }
    }
    log.info({ method, path }, 'unknown dead-letter request');
    return { status: 405, body: { error: USAGE } };
  };
}
