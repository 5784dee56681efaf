/**
 * Operations on one host (issue 16): several `portcullis run` processes with one config file and a
 * port override each, a listener that cannot bind told in one line, the `portcullis` wrapper on
 * Node 24 when PATH's node is older (and the refusal on the old one), and the Redis reachability
 * lines at start.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configYaml, freePort } from '../support/gateway.js';
import { MailboxSink } from '../support/sink.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { OwnRedis } from '../support/redis-server.js';
import { DNS_SERVER, ROOT } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const ENTRY = join(ROOT, 'apps', 'portcullis', 'dist', 'src', 'portcullis.js');
const WRAPPER = join(ROOT, 'bin', 'portcullis');
/** The machine's Node (20 here): what `#!/usr/bin/env node` finds first on a stock PATH. */
const OLD_NODE = '/usr/bin/node';

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}, node = process.execPath): Proc {
  const child = spawn(node, [ENTRY, ...args], { cwd: ROOT, env: { ...process.env, PORTCULLIS_DNS_SERVERS: DNS_SERVER, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(t);
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** Holds a port the way another process would. */
async function occupy(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', resolve));
  return s;
}

const stderrLines = (p: Proc) => p.err().split('\n').filter(Boolean);

describe('one host, one config, several processes', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-one-host-'));
  const procs: Proc[] = [];
  after(async () => {
    await Promise.all(procs.map(stop));
  });

  it('two services from one config file run side by side with their ports from a flag and from the environment', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'one-host-token\n', { mode: 0o600 });
    const smtpPort = await freePort();
    const [fileHttp, fileAdmin] = [await freePort(), await freePort()];
    const config = join(dir, 'shared.yaml');
    writeFileSync(
      config,
      configYaml({ services: [], smtpPort, httpPort: fileHttp, adminPort: fileAdmin, adminTokenFile: tokenFile, distributed: true, maildir: join(dir, 'mail') }),
    );
    const [relayHttp, relayAdmin, contentHttp, contentAdmin] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const relay = run(['run', 'relay', '--config', config, '--http-port', String(relayHttp), '--admin-port', String(relayAdmin)]);
    const content = run(['run', 'content', '--config', config], { PORTCULLIS_HTTP_PORT: String(contentHttp), PORTCULLIS_ADMIN_PORT: String(contentAdmin) });
    procs.push(relay, content);
    await waitFor('relay ready on its --http-port', async () => (relay.child.exitCode !== null ? assert.fail(`relay exited: ${relay.err()}`) : ready(relayHttp)), 120_000, 250);
    await waitFor(
      'content ready on PORTCULLIS_HTTP_PORT',
      async () => (content.child.exitCode !== null ? assert.fail(`content exited: ${content.err()}`) : ready(contentHttp)),
      120_000,
      250,
    );
    assert.equal(await ready(fileHttp), false, "nobody listens on the file's http.listen port");
    // Each admin API on its own override port: the relay's serves the quarantine, the content's does not.
    const auth = { authorization: 'Bearer one-host-token' };
    assert.equal((await fetch(`http://127.0.0.1:${relayAdmin}/admin/quarantine`, { headers: auth })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${contentAdmin}/admin/quarantine`, { headers: auth })).status, 404);
  });

  it('a bad override is refused at start naming the flag', async () => {
    const config = join(dir, 'embedded.yaml');
    writeFileSync(config, configYaml({ services: [], smtpPort: await freePort(), httpPort: await freePort(), distributed: false }));
    const p = run(['run', 'all', '--config', config, '--http-port', '70000']);
    assert.equal(await p.exited, 78);
    assert.deepEqual(stderrLines(p), ['--http-port: "70000" is not a port (0-65535)']);
  });

  for (const which of ['http.listen', 'http.admin.listen', 'smtp.mx.listen'] as const) {
    it(`a port in use on ${which} is one line naming the key and the address, exit 1`, async () => {
      const tokenFile = join(dir, 'token');
      const ports = { http: await freePort(), admin: await freePort(), smtp: await freePort() };
      const config = join(dir, `bind-${which}.yaml`);
      writeFileSync(
        config,
        configYaml({ services: [], smtpPort: ports.smtp, httpPort: ports.http, adminPort: ports.admin, adminTokenFile: tokenFile, distributed: false, maildir: join(dir, 'mail') }),
      );
      const taken = which === 'http.listen' ? ports.http : which === 'http.admin.listen' ? ports.admin : ports.smtp;
      const holder = await occupy(taken);
      try {
        const p = run(['run', 'all', '--config', config]);
        const code = await p.exited;
        assert.equal(code, 1, p.err());
        const lines = stderrLines(p);
        assert.equal(lines.length, 1, `one line on stderr, got: ${p.err()}`);
        assert.match(lines[0]!, new RegExp(`^${which.replace(/\./g, '\\.')}: cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use \\(EADDRINUSE\\)`));
        if (which !== 'smtp.mx.listen') assert.match(lines[0]!, which === 'http.listen' ? /--http-port or PORTCULLIS_HTTP_PORT/ : /--admin-port or PORTCULLIS_ADMIN_PORT/);
        assert.doesNotMatch(p.err() + p.out(), /\n[ \t]+at /, 'no stack trace');
      } finally {
        holder.close();
      }
    });
  }
});

describe('the portcullis command on a machine whose node is older', { timeout: 120_000 }, () => {
  const oldPath = `/usr/bin:/bin`;
  const skip = !existsSync(OLD_NODE) || Number(spawnSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim()) >= 24;

  it('the entry refuses Node < 24 with one line', { skip: skip && 'no Node older than 24 at /usr/bin/node' }, () => {
    const r = spawnSync(OLD_NODE, [ENTRY, 'run', 'all'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^portcullis: needs Node\.js 24 or later, this is Node\.js 20\.[\d.]+ \(\/usr\/bin\/node\); run bin\/portcullis/);
  });

  it('bin/portcullis runs the CLI on Node 24 with the old node first on PATH', { skip: skip && 'no Node older than 24 at /usr/bin/node' }, () => {
    const r = spawnSync(WRAPPER, ['hash-password'], { cwd: tmpdir(), input: 'pw\n', encoding: 'utf8', env: { HOME: process.env.HOME ?? '/tmp', PATH: oldPath } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scrypt\$\d+\$/, 'a hash, made by the CLI under Node 24');
  });

  it('make install links the wrapper into PREFIX/bin, and the link works from anywhere', { skip: skip && 'no Node older than 24 at /usr/bin/node' }, () => {
    const prefix = mkdtempSync(join(tmpdir(), 'portcullis-prefix-'));
    // -o build: the tree is built already (the test runs on it); install alone is under test.
    const m = spawnSync('make', ['-s', '-o', 'build', 'install', `PREFIX=${prefix}`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    const link = join(prefix, 'bin', 'portcullis');
    assert.equal(readlinkSync(link), WRAPPER);
    const r = spawnSync('portcullis', ['doctor', '--help'], { cwd: tmpdir(), encoding: 'utf8', env: { HOME: process.env.HOME ?? '/tmp', PATH: `${prefix}/bin:${oldPath}` } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: portcullis doctor/);
  });
});

describe('Redis reachability at start', { timeout: 120_000 }, () => {
  const redis = new OwnRedis();
  let p: Proc | undefined;
  after(async () => {
    if (p) await stop(p);
    await redis.stop();
  });

  it('says once that Redis is unreachable, and once that it is reachable when it comes', async () => {
    redis.port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-down-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(
      config,
      configYaml({
        services: [],
        smtpPort: await freePort(),
        httpPort: await freePort(),
        distributed: false,
        redis: { url: `redis://127.0.0.1:${redis.port}`, keyPrefix: 'onehost:' },
        maildir: join(dir, 'mail'),
      }),
    );
    p = run(['run', 'all', '--config', config]);
    const lines = () =>
      p!
        .out()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; level: number });
    const down = await waitFor('the unreachable line', () => lines().find((l) => /^Redis unreachable at /.test(l.msg)), 30_000, 100);
    assert.match(down.msg, new RegExp(`^Redis unreachable at redis://127\\.0\\.0\\.1:${redis.port}`));
    assert.ok(down.level >= 50, 'logged as an error');
    await redis.start();
    await waitFor('the reachable line', () => lines().find((l) => /^Redis reachable at /.test(l.msg)), 30_000, 100);
    assert.equal(lines().filter((l) => /^Redis unreachable/.test(l.msg)).length, 1, 'said once, not at every retry');
  });
});

describe('deploy/one-host and deploy/systemd: five processes, one config', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-one-host-run-'));
  const sink = new MailboxSink();
  let script: ChildProcess | undefined;
  let log = '';
  // Ports of run.sh (deploy/one-host/ports.sh): HTTP base+1..5, admin base+101..105, shifted per checkout.
  const base = 40_000 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET || 0) * 10;
  const http = { edge: base + 1, auth: base + 2, reputation: base + 3, content: base + 4, relay: base + 5 };
  after(async () => {
    if (script && script.exitCode === null) {
      script.kill('SIGTERM');
      await new Promise((r) => script!.once('exit', r));
    }
    await sink.stop().catch(() => undefined);
  });

  it('run.sh starts the five services with their own ports; mail goes through; SIGTERM stops them all', async () => {
    await sink.start();
    const smtpPort = await freePort();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'run-sh-token', { mode: 0o600 });
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      configYaml({
        services: [],
        smtpPort,
        httpPort: await freePort(),
        adminPort: await freePort(),
        adminTokenFile: tokenFile,
        downstreamPort: sink.port,
        distributed: true,
        maildir: join(dir, 'mail'),
      }),
    );
    script = spawn('bash', [join(ROOT, 'deploy', 'one-host', 'run.sh'), config], {
      cwd: dir,
      env: { ...process.env, PORTCULLIS_PORT_BASE: String(base), PORTCULLIS_DNS_SERVERS: DNS_SERVER },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    script.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    script.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    for (const [name, port] of Object.entries(http)) {
      await waitFor(
        `${name} ready on ${port} (log: ${log.slice(-2000)})`,
        async () => (script!.exitCode !== null ? assert.fail(`run.sh exited: ${log.slice(-3000)}`) : ready(port)),
        150_000,
        500,
      );
    }
    assert.match(log, /^edge \| \{/m, 'each log line names its service');
    const sent = await sendRaw(smtpPort, makeMessage('one host run.sh'));
    assert.equal(sent.code, 250, sent.response);
    await waitFor('delivered to the mailbox server', () => sink.find(sent.messageId!)[0], 60_000);
    const exited = new Promise<number | null>((r) => script!.once('exit', (code) => r(code)));
    script.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const port of Object.values(http)) assert.equal(await ready(port), false, `nothing left on ${port}`);
  });

  it('the systemd template unit and target pass systemd-analyze verify', { skip: !existsSync('/usr/bin/systemd-analyze') && 'no systemd-analyze' }, () => {
    const units = mkdtempSync(join(tmpdir(), 'portcullis-units-'));
    // The unit names /opt/portcullis; verify checks ExecStart exists, so point it at this checkout.
    writeFileSync(join(units, 'portcullis@.service'), readFileSync(join(ROOT, 'deploy', 'systemd', 'portcullis@.service'), 'utf8').replaceAll('/opt/portcullis', ROOT));
    writeFileSync(join(units, 'portcullis.target'), readFileSync(join(ROOT, 'deploy', 'systemd', 'portcullis.target'), 'utf8'));
    for (const svc of ['edge', 'auth', 'reputation', 'content', 'relay']) {
      symlinkSync('portcullis@.service', join(units, `portcullis@${svc}.service`));
      const env = readFileSync(join(ROOT, 'deploy', 'systemd', `${svc}.env`), 'utf8');
      assert.match(env, new RegExp(`^PORTCULLIS_HTTP_PORT=${http[svc as keyof typeof http] - base + 9100}$`, 'm'), `${svc}.env matches ports.sh`);
    }
    const r = spawnSync('systemd-analyze', ['verify', 'portcullis@edge.service', 'portcullis@relay.service', 'portcullis.target'], { cwd: units, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  });
});
