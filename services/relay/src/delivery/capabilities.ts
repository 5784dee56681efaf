import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { DownstreamConfig } from '@portcullis/config';

const CACHE_MS = 10 * 60_000;
const MAX_CACHED = 1000;

/**
 * relay.capabilities: what a destination advertises in EHLO (after STARTTLS when the route uses
 * it), asked only for a message that needs an extension and cached per destination. nodemailer's
 * pooled transport hides the reply, and it would send 8-bit or UTF-8 to a server that offered
 * neither (see the brief), so we ask ourselves.
 */
export class Capabilities {
  private readonly cache = new Map<string, { at: number; extensions: Set<string> }>();

  constructor(private readonly opts: { hostname: string; timeoutMs: number; now?: () => number }) {}

  async of(d: DownstreamConfig): Promise<Set<string>> {
    const key = `${d.host}:${d.port}:${d.tls}`;
    const now = (this.opts.now ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < CACHE_MS) return hit.extensions;
    const extensions = await this.probe(d);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { at: now, extensions });
    return extensions;
  }

  private probe(d: DownstreamConfig): Promise<Set<string>> {
    const conn = new SMTPConnection({
      host: d.host,
      port: d.port,
      secure: false,
      name: this.opts.hostname,
      connectionTimeout: this.opts.timeoutMs,
      greetingTimeout: this.opts.timeoutMs,
      socketTimeout: this.opts.timeoutMs,
      ignoreTLS: d.tls === 'none',
      requireTLS: d.tls === 'required' || d.tls === 'verify',
      tls: { rejectUnauthorized: d.tls === 'verify', minVersion: 'TLSv1.2', servername: d.host },
    });
    return new Promise((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => {
        const found = new Set((conn as unknown as { _supportedExtensions: string[] })._supportedExtensions.map((e) => e.toUpperCase()));
        conn.quit();
        resolve(found);
      });
    });
  }
}
