import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { CLI, DNS_SERVER, KAFKA_BROKERS, REDIS_URL, ROOT } from './paths.js';
import { waitFor } from './wait.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface GatewayOptions {
  services: string[];
  smtpPort: number;
  httpPort: number;
  downstreamPort?: number;
  distributed: boolean;
  maildir?: string;
  verdictTimeoutMs?: number;
  storeTimeoutMs?: number;
  submissionPort?: number;
  submissionsPort?: number;
  /** YAML flow mapping for smtp.mx.proxy, e.g. "{ trustedCidrs: [127.0.0.0/8], required: true }". */
  mxProxy?: string;
  /** Shared state in this Redis (with this key prefix) even when the bus is in-process. */
  redis?: { url: string; keyPrefix: string };
  /** Extra YAML under smtp: (indented by the caller), e.g. "  limits: { dataTimeoutMs: 1000 }\n". */
  smtpExtra?: string;
  /** http.admin.tokenFile: turns the admin API on, on its own listener (adminPort). */
  adminTokenFile?: string;
  /** http.admin.listen's port on 127.0.0.1: needed with adminTokenFile. */
  adminPort?: number;
  /** Extra YAML under relay: (indented by the caller), e.g. "  maxAgeSeconds: 20\n". */
  relayExtra?: string;
  /** Extra entries under domains: (indented by the caller). */
  domainsExtra?: string;
  /** Extra top-level YAML (tls:, login:, ...). */
  extra?: string;
  /** Extra environment for the process (OTEL_* and the like). */
  env?: Record<string, string>;
  /** bus.memory.spoolDir in embedded mode (GatewayProcess gives each process its own). */
  spoolDir?: string;
  /** Extra YAML under bus.memory (flow mapping entries), e.g. "maxBytesPerTopic: 33554432". */
  memoryBusExtra?: string;
}

/** http.admin: on its own port (never the health and metrics one), or absent (off). */
function adminYaml(o: GatewayOptions): string {
  if (!o.adminTokenFile) return '';
  if (!o.adminPort) throw new Error('adminTokenFile needs adminPort: the admin API has a listener of its own');
  return `  admin: { enabled: true, listen: { host: 127.0.0.1, port: ${o.adminPort} }, tokenFile: ${o.adminTokenFile} }\n`;
}

/** The YAML a test process runs with: the same schema an operator writes. */
export function configYaml(o: GatewayOptions): string {
  const downstream = o.downstreamPort ? `\n    downstream: { host: 127.0.0.1, port: ${o.downstreamPort}, tls: none }` : '';
  const bus = o.distributed
    ? `bus:\n  kind: kafka\n  kafka:\n    brokers: [${KAFKA_BROKERS.join(', ')}]\n    partitions: 3\n    replicationFactor: 1\n    sessionTimeoutMs: 6000\n`
    : `bus:\n  kind: memory\n  memory: { ${[o.spoolDir ? `spoolDir: "${o.spoolDir}"` : '', o.memoryBusExtra ?? ''].filter(Boolean).join(', ')} }\n`;
  const state = o.redis
    ? `state:\n  kind: redis\n  redis: { url: "${o.redis.url}", keyPrefix: "${o.redis.keyPrefix}" }\n`
    : o.distributed
      ? `state:\n  kind: redis\n  redis: { url: "${REDIS_URL}" }\n`
      : 'state:\n  kind: memory\n';
  return `hostname: mx.test.portcullis
domains:
  - name: example.test${downstream}
${o.domainsExtra ?? ''}smtp:
  mx: { listen: { host: 127.0.0.1, port: ${o.smtpPort} }${o.mxProxy ? `, proxy: ${o.mxProxy}` : ''} }
${o.submissionPort ? `  submission: { enabled: true, listen: { host: 127.0.0.1, port: ${o.submissionPort} } }\n` : ''}${o.submissionsPort ? `  submissions: { enabled: true, listen: { host: 127.0.0.1, port: ${o.submissionsPort} } }\n` : ''}  verdictTimeoutMs: ${o.verdictTimeoutMs ?? 5000}
  storeTimeoutMs: ${o.storeTimeoutMs ?? 3000}
${o.smtpExtra ?? ''}http:
  listen: { host: 127.0.0.1, port: ${o.httpPort} }
${adminYaml(o)}${bus}${state}relay:
  maildir: ${o.maildir ?? join(ROOT, 'var', 'test-mail')}
  retryDelaysSeconds: [1, 2]
  connectionTimeoutMs: 5000
${o.relayExtra ?? ''}log:
  level: info
${o.extra ?? ''}`;
}

/** One Portcullis process (one service, or all in embedded mode), run as the operator would. */
export class GatewayProcess {
  private child: ChildProcess | null = null;
  readonly configPath: string;
  readonly logPath: string;

  constructor(
    readonly name: string,
    readonly options: GatewayOptions,
  ) {
    const dir = mkdtempSync(join(tmpdir(), `portcullis-${name}-`));
    this.configPath = join(dir, 'portcullis.yaml');
    this.logPath = join(dir, 'out.log');
    // Each embedded process its own spool, kept across its restarts (never another test's).
    writeFileSync(this.configPath, configYaml({ spoolDir: join(dir, 'spool'), ...options }));
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, 'run', ...this.options.services, '--config', this.configPath], {
      cwd: ROOT,
      env: { ...process.env, PORTCULLIS_DNS_SERVERS: DNS_SERVER, ...(this.options.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    await waitFor(
      `${this.name} ready (log: ${this.logPath})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}: ${this.tail()}`);
        return this.ready();
      },
      90_000,
      200,
    );
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.options.httpPort}/readyz`);
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** The process id while it runs (for measuring it, or to look at its sockets under /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.options.httpPort}/metrics`);
    return res.text();
  }

  tail(lines = 20): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

/** Every service as its own process over Kafka and Redis, as in the cluster. */
export async function startDistributed(opts: {
  smtpPort: number;
  downstreamPort: number;
  verdictTimeoutMs?: number;
  storeTimeoutMs?: number;
  extra?: string;
  env?: Record<string, string>;
}): Promise<Map<string, GatewayProcess>> {
  const procs = new Map<string, GatewayProcess>();
  // Consumers first, the edge last, as the chart's readiness gates would have it.
  for (const name of ['relay', 'content', 'reputation', 'auth', 'edge']) {
    const p = new GatewayProcess(name, {
      services: [name],
      smtpPort: opts.smtpPort,
      httpPort: await freePort(),
      downstreamPort: opts.downstreamPort,
      distributed: true,
      ...(opts.verdictTimeoutMs !== undefined ? { verdictTimeoutMs: opts.verdictTimeoutMs } : {}),
      ...(opts.storeTimeoutMs !== undefined ? { storeTimeoutMs: opts.storeTimeoutMs } : {}),
      ...(opts.extra !== undefined ? { extra: opts.extra } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
    });
    procs.set(name, p);
  }
  await Promise.all([...procs.values()].map((p) => p.start()));
  return procs;
}
