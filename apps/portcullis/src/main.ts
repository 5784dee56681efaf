#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile, readSecretFile, type Config } from '@portcullis/config';
import { createLogger, createRegistry, installTracing, logProcessWarnings, shutdownTracing, startAdminServer, startHealthServer } from '@portcullis/telemetry';
import { BusSetupError } from '@portcullis/bus';
import { createBus, createState, topicSpecs } from './runtime.js';
import { SERVICES, needsRedis, startService, type Running, type ServiceName } from './services.js';
import { hashPassword } from '@portcullis/edge';
import { ADMIN_USAGE, adminCommand } from './admin-cli.js';
import { doctorCommand } from './doctor/command.js';
import { DeadLetterReader } from './dead-letter/reader.js';
import { deadLetterAdmin } from './dead-letter/admin.js';
import { applyPortOverrides, IN_USE_HINT } from './port-overrides.js';
import { bindFailureLine } from './bind-failure.js';
import { untilStateReachable, watchState } from './state-watch.js';

const USAGE = `usage: portcullis run <all|edge|auth|reputation|content|relay>... [--config FILE] [--http-port N] [--admin-port N]
       portcullis hash-password        (reads a password on stdin, prints its scrypt hash for the users file)
       portcullis doctor [--help]      (checks an install: the release in Kubernetes, else Redis, mailbox server, scanners,
                                        certificate files and /readyz; Kafka topics and DNS everywhere)
${ADMIN_USAGE}

  all        every service in one process (embedded mode with bus.kind: memory)
  --config   YAML configuration (default: $PORTCULLIS_CONFIG, else config/portcullis.yaml)
  --http-port, --admin-port   this process's port for http.listen / http.admin.listen, over the file's
             (also $PORTCULLIS_HTTP_PORT, $PORTCULLIS_ADMIN_PORT): several processes on one host, one config`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'quarantine' || argv[0] === 'trace' || argv[0] === 'dead-letter' || argv[0] === 'bans') return adminCommand(argv);
  if (argv[0] === 'doctor') return doctorCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, 'http-port': { type: 'string' }, 'admin-port': { type: 'string' } },
  });
  if (positionals[0] === 'hash-password') return hashPasswordCommand();
  if (values.help || positionals[0] !== 'run' || positionals.length < 2) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const wanted = positionals.slice(1);
  const names: ServiceName[] = wanted.includes('all') ? [...SERVICES] : [];
  for (const w of wanted) {
    if (w === 'all') continue;
    if (!(SERVICES as readonly string[]).includes(w)) {
      console.error(`unknown service "${w}"\n${USAGE}`);
      return 2;
    }
    names.push(w as ServiceName);
  }

  const path = values.config ?? process.env.PORTCULLIS_CONFIG ?? 'config/portcullis.yaml';
  let config: Config;
  // Old names of renamed keys: logged once the logger exists.
  const deprecated: Array<{ key: string; replacement: string }> = [];
  try {
    config = applyPortOverrides(
      loadConfigFile(path, (key, replacement) => deprecated.push({ key, replacement })),
      values,
    );
    if (config.bus.kind === 'memory' && names.length !== SERVICES.length) {
      throw new ConfigError(`config file ${path} is invalid:\n  bus.kind: "memory" only works with every service in one process (portcullis run all)`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  return run(config, names, deprecated);
}

async function run(config: Config, names: ServiceName[], deprecated: ReadonlyArray<{ key: string; replacement: string }> = []): Promise<number> {
  const logger = createLogger({ level: config.log.level, service: names.length === SERVICES.length ? 'portcullis' : names.join('+') });
  for (const d of deprecated) logger.warn(d, `config key ${d.key} is deprecated: it is read as ${d.replacement}; rename it`);
  logProcessWarnings(logger);
  installTracing(names.length === SERVICES.length ? 'portcullis' : `portcullis-${names.join('+')}`);
  const registry = createRegistry();
  const bus = createBus(config, logger, registry);
  const state = createState(config);
  const adminConfig = config.http.admin;
  const adminToken = async () => readSecretFile(adminConfig.tokenFile!, 'http.admin.tokenFile');
  if (adminConfig.enabled) {
    try {
      if (!(await adminToken())) throw new ConfigError('http.admin.tokenFile: the token file is empty');
    } catch (err) {
      console.error((err as Error).message);
      return 78;
    }
  }
  let health: Awaited<ReturnType<typeof startHealthServer>>;
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  try {
    health = await startHealthServer({ ...config.http.listen, registry, logger, inUseHint: IN_USE_HINT.http });
    // Off: no admin listener at all, and no service registers an admin area.
    admin = adminConfig.enabled ? await startAdminServer({ ...adminConfig.listen, token: adminToken, logger, inUseHint: IN_USE_HINT.admin }) : undefined;
  } catch (err) {
    const line = bindFailureLine(err, config);
    if (!line) throw err;
    console.error(line);
    return 1;
  }
  const stopWatching = watchState(state, config, logger);
  let started = false;
  health.addReadiness('startup', () => (started ? null : 'starting'));
  // Shared dependencies: in /healthz's details and portcullis_dependency_up in every process. They
  // gate readiness only for the stages: an edge taken out of its Service by a shared outage would
  // leave senders with refused connections, where it answers 451 and they retry.
  if (bus.kind === 'kafka') health.addDependency('kafka', () => bus.unhealthy());
  if (state.kind === 'redis') health.addDependency('redis', () => state.unhealthy());
  if (!names.includes('edge')) {
    health.addReadiness('bus', () => bus.unhealthy());
    if (names.some(needsRedis)) health.addReadiness('state', () => state.unhealthy());
  }

  const running: Running[] = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    health.draining();
    // The edge first (no new mail), then the stages in pipeline order, so records in flight move on.
    for (const r of [...running].sort((a, b) => SERVICES.indexOf(a.name) - SERVICES.indexOf(b.name))) {
      await r.stop().catch((err: Error) => logger.error({ service: r.name, error: err.message }, 'stop failed'));
    }
    await bus.close().catch((err: Error) => logger.error({ error: err.message }, 'bus close failed'));
    stopWatching();
    await state.close();
    await health.close();
    await admin?.close();
    await shutdownTracing();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await retryStart(() => bus.ensureTopics(topicSpecs(config)), 'bus', logger);
    await untilStateReachable(state, 120_000);
    // Consumers before the edge: accept nothing that has nowhere to go.
    const order = [...names].sort((a, b) => SERVICES.indexOf(b) - SERVICES.indexOf(a));
    const deps = { config, bus, state, logger, registry, ...(admin ? { admin: admin.addAdmin } : {}) }; // one DNS resolver for all
    admin?.addAdmin('dead-letter', deadLetterAdmin(new DeadLetterReader({ bus, state, logger }), logger));
    for (const name of order) {
      const r = await startService(name, deps);
      running.push(r);
      health.addReadiness(name, () => r.unhealthy());
    }
  } catch (err) {
    const bindLine = bindFailureLine(err, config);
    if (bindLine) {
      console.error(bindLine);
      return 1;
    }
    logger.fatal({ error: (err as Error).message }, 'start failed');
    if (err instanceof ConfigError) console.error(err.message);
    return err instanceof ConfigError ? 78 : 1;
  }
  started = true;
  logger.info({ services: names, bus: bus.kind, state: state.kind }, 'portcullis started');
  return -1; // keep running
}

async function hashPasswordCommand(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!password) {
    console.error('hash-password: give the password on standard input, e.g. printf %s "$PASSWORD" | portcullis hash-password');
    return 2;
  }
  console.log(await hashPassword(password));
  return 0;
}

/** Kafka may come up after us (a fresh cluster); wait for it a while rather than crash-loop, unless it refused for good. */
async function retryStart(fn: () => Promise<void>, what: string, logger: ReturnType<typeof createLogger>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BusSetupError || Date.now() > deadline) throw err;
      logger.warn({ attempt, error: (err as Error).message }, `${what} not reachable yet`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
