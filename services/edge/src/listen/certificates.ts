import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFile, stat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@portcullis/telemetry';
import type { Config } from '@portcullis/config';
import { TLS_POLICY } from './tls-policy.js';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

interface Loaded {
  cert: string;
  key: string;
  names: string[];
  notAfter: Date;
  files: CertificateFiles;
}

/** Session ticket keys are rotated this often (every context is rebuilt with fresh keys). */
const TICKET_KEY_ROTATION_MS = 12 * 3600 * 1000;

/**
 * tls.certificates: the certificates the edge serves, chosen by SNI, reloaded
 * when their files change. A cert-manager Secret is mounted as a directory
 * (never with subPath, which is never updated), so a renewal shows up as new
 * file contents; we poll the files' mtimes and rebuild the contexts. Sessions
 * already established keep theirs; the next handshake gets the new one.
 *
 * Several certificates for the primary names (ECDSA beside RSA) share the
 * default context, and OpenSSL picks the one the client supports. That works
 * only in the context the handshake starts with: when SNI switches to another
 * context, OpenSSL (3.x, measured with Node 24) keeps just one of its key
 * pairs. So names served through SNI get one certificate each (the first
 * listed), and SNI for a primary name does not switch context at all (see
 * sni-passthrough.ts).
 */
export class CertificateStore {
  private byName = new Map<string, SecureContext>();
  private primaryNames = new Set<string>();
  private defaults: { key: string[]; cert: string[] } = { key: [], cert: [] };
  private mtimes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private ticketTimer: NodeJS.Timeout | null = null;
  private listeners: ((d: { key: string[]; cert: string[] }) => void)[] = [];
  loadedAt = new Date(0);

  constructor(
    private readonly files: CertificateFiles[],
    private readonly logger: Logger,
  ) {}

  get configured(): boolean {
    return this.files.length > 0;
  }

  /** Loads every certificate; throws (at start) when one is missing or does not match its key. */
  async load(): Promise<void> {
    const loaded: Loaded[] = [];
    for (const f of this.files) loaded.push(await loadPair(f));
    this.build(loaded);
    for (const f of this.files) for (const p of [f.certFile, f.keyFile]) this.mtimes.set(p, (await stat(p)).mtimeMs);
  }

  private build(loaded: Loaded[]): void {
    const groups = new Map<string, Loaded[]>();
    for (const l of loaded) for (const n of l.names) groups.set(n, [...(groups.get(n) ?? []), l]);
    const byName = new Map<string, SecureContext>();
    for (const [name, ls] of groups) byName.set(name, context(ls.slice(0, 1)));
    this.byName = byName;
    // Clients that send no SNI (many MTAs) get the first configured certificate (and its siblings).
    const first = loaded[0];
    const defaults = first ? loaded.filter((l) => l.names.join() === first.names.join()) : [];
    this.primaryNames = new Set(first?.names ?? []);
    this.defaults = { key: defaults.map((l) => l.key), cert: defaults.map((l) => l.cert) };
    this.loadedAt = new Date();
    for (const l of loaded) {
      this.logger.info({ names: l.names, notAfter: l.notAfter.toISOString(), file: l.files.certFile }, 'certificate loaded');
    }
    for (const fn of this.listeners) fn(this.defaults);
  }

  /** Key and certificate for clients without SNI, in smtp-server's option shape. */
  defaultPair(): { key: string[]; cert: string[] } {
    return this.defaults;
  }

  onReload(fn: (defaults: { key: string[]; cert: string[] }) => void): void {
    this.listeners.push(fn);
  }

  /** SNICallback: exact name first, then a wildcard one label up, then the default (undefined). */
  resolve(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const dot = name.indexOf('.');
    const candidates = dot > 0 ? [name, `*${name.slice(dot)}`] : [name];
    for (const c of candidates) {
      if (this.primaryNames.has(c)) return undefined;
      const ctx = this.byName.get(c);
      if (ctx) return ctx;
    }
    return undefined;
  }

  /** Starts watching the files; a change that fails to load keeps the old certificates. */
  watch(intervalMs: number): void {
    this.timer = setInterval(() => void this.checkForChanges(), intervalMs);
    this.timer.unref();
    this.ticketTimer = setInterval(() => void this.reload('session ticket key rotation'), TICKET_KEY_ROTATION_MS);
    this.ticketTimer.unref();
  }

  async checkForChanges(): Promise<boolean> {
    let changed = false;
    for (const [path, old] of this.mtimes) {
      const now = await stat(path).then(
        (s) => s.mtimeMs,
        () => -1,
      );
      if (now !== old) changed = true;
    }
    if (changed) await this.reload('certificate files changed');
    return changed;
  }

  private async reload(why: string): Promise<void> {
    try {
      await this.load();
      this.logger.info({ why }, 'TLS contexts rebuilt');
    } catch (err) {
      this.logger.error({ why, error: (err as Error).message }, 'certificate reload failed; serving the previous certificates');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.ticketTimer) clearInterval(this.ticketTimer);
  }
}

async function loadPair(files: CertificateFiles): Promise<Loaded> {
  const [cert, key] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`${files.keyFile} is not the key of ${files.certFile}`);
  }
  const names = (x509.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (names.length === 0) {
    const cn = /CN=([^\n,]+)/.exec(x509.subject)?.[1];
    if (cn) names.push(cn.toLowerCase());
  }
  return { cert, key, names, notAfter: new Date(x509.validTo), files };
}

function context(ls: Loaded[]): SecureContext {
  return createSecureContext({
    ...TLS_POLICY,
    key: ls.map((l) => l.key),
    cert: ls.map((l) => l.cert),
    ticketKeys: randomBytes(48),
  });
}

/**
 * For trying Portcullis out: a self-signed certificate for the hostname, made
 * once and kept under dir so clients can pin it between restarts.
 */
export async function ensureSelfSigned(dir: string, hostname: string, logger: Logger): Promise<CertificateFiles> {
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  const exists = await stat(files.certFile).then(
    () => true,
    () => false,
  );
  if (exists) return files;
  const selfsigned = await import('selfsigned');
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 1);
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(files.keyFile, pems.private, { mode: 0o600 });
  await writeFile(files.certFile, pems.cert);
  logger.warn({ certFile: files.certFile, hostname }, 'made a self-signed certificate (trying out only; configure tls.certificates for real use)');
  return files;
}

/** The configured certificates (or a self-signed one when asked for), loaded; null when TLS is off. */
export async function loadCertificates(config: Config, log: Logger): Promise<CertificateStore | null> {
  let files = config.tls.certificates;
  if (files.length === 0 && config.tls.selfSigned) files = [await ensureSelfSigned(config.tls.selfSignedDir, config.hostname, log)];
  if (files.length === 0) return null;
  const store = new CertificateStore(files, log);
  await store.load();
  return store;
}
