import { request } from 'node:http';
import type { Envelope } from '@portcullis/contract';
import { SlotPool } from './slots.js';

export interface RspamdSymbol {
  name: string;
  score: number;
}

export interface RspamdAnswer {
  score: number;
  requiredScore: number;
  action: string;
  symbols: RspamdSymbol[];
}

export interface RspamdOptions {
  url: string;
  timeoutMs: number;
  concurrency: number;
}

/** What rspamd is told of the SMTP session, so its rules see what the edge saw. */
export function envelopeHeaders(envelope: Envelope, queueId: string): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {
    IP: envelope.client.ip,
    Helo: envelope.helo,
    From: envelope.mailFrom,
    // node:http sends an array as one header line each; rspamd wants one Rcpt per recipient.
    Rcpt: envelope.rcptTo,
    'Queue-Id': queueId,
  };
  if (envelope.client.hostname) h.Hostname = envelope.client.hostname;
  if (envelope.auth) h.User = envelope.auth.user;
  if (envelope.tls) h['TLS-Version'] = envelope.tls.version;
  return h;
}

/** rspamd's /checkv2 over HTTP (node:http: it sends repeated headers, which fetch folds into one). */
export class RspamdClient {
  private readonly slots: SlotPool;

  constructor(readonly options: RspamdOptions) {
    this.slots = new SlotPool(options.concurrency);
  }

  check(raw: Buffer, headers: Record<string, string | string[]>): Promise<RspamdAnswer> {
    const started = Date.now();
    return this.slots.run(this.options.timeoutMs, () => this.post(raw, headers, this.options.timeoutMs - (Date.now() - started)));
  }

  private post(raw: Buffer, headers: Record<string, string | string[]>, timeoutMs: number): Promise<RspamdAnswer> {
    const url = new URL('/checkv2', this.options.url);
    const all = { ...headers, 'Content-Length': String(raw.length) };
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: all, timeout: timeoutMs, signal: AbortSignal.timeout(Math.max(1, timeoutMs)) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new Error(`rspamd: ${e.message}`)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`rspamd answered HTTP ${res.statusCode}`));
          try {
            resolve(parseCheck(body));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`rspamd did not answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new Error(e.name === 'AbortError' || e.name === 'TimeoutError' ? `rspamd did not answer within ${timeoutMs} ms` : `rspamd: ${e.message}`)));
      req.end(raw);
    });
  }
}

export function parseCheck(body: string): RspamdAnswer {
  const j = JSON.parse(body) as { score?: unknown; required_score?: unknown; action?: unknown; symbols?: Record<string, { score?: number }> };
  if (typeof j.score !== 'number' || typeof j.action !== 'string') throw new Error('rspamd: answer without score or action');
  const symbols = Object.entries(j.symbols ?? {}).map(([name, s]) => ({ name, score: Number(s.score ?? 0) }));
  symbols.sort((a, b) => Math.abs(b.score) - Math.abs(a.score));
  return { score: j.score, requiredScore: Number(j.required_score ?? 0), action: j.action, symbols };
}
