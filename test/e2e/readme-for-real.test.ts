/**
 * The README's "Running it for real", followed literally from a clean clone (issue 16): `make &&
 * make install` in a fresh `git clone` of this repository, then the README's own `portcullis run`
 * lines — read from README.md, not copied here, so the test fails when the README stops being
 * true — for the five services with one config file, on a PATH whose first `node` is the
 * machine's old one (as on a stock host). Mail sent to the edge reaches the mailbox server through
 * the real broker and Redis. The clone is of what is committed: uncommitted changes are not in it.
 *
 * Substitutions, and only these: the config path (/etc/portcullis/portcullis.yaml) is a file of
 * the test's, the ports the README names are free ports of this machine, and `make install` gets a
 * PREFIX under the test's directory instead of writing into the machine's ~/.local/bin (the README
 * names `PREFIX=` as the way to choose it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configYaml, freePort } from '../support/gateway.js';
import { MailboxSink } from '../support/sink.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { DNS_SERVER, ROOT } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const SERVICES = ['edge', 'auth', 'reputation', 'content', 'relay'] as const;
const README_CONFIG = '/etc/portcullis/portcullis.yaml';

/** The first ```sh block of the README's "Running it for real" section, as lines. */
function readmeBlock(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running it for real'));
  assert.ok(section.startsWith('## Running it for real'), 'the README has a "Running it for real" section');
  const start = section.indexOf('```sh\n');
  const end = section.indexOf('\n```', start + 6);
  assert.ok(start >= 0 && end > start, 'the section has a sh block');
  return section.slice(start + 6, end).split('\n');
}

/** The README's `portcullis run <service> ...` line for each service ("likewise" for those it does not spell out). */
function runLines(block: string[]): Map<string, string> {
  const lines = block.filter((l) => /^portcullis run \w+ /.test(l));
  assert.ok(lines.length > 0, 'the block has portcullis run lines');
  const example = lines[0]!;
  const exampleService = /^portcullis run (\w+) /.exec(example)![1]!;
  const out = new Map<string, string>();
  for (const s of SERVICES) {
    const own = lines.find((l) => l.startsWith(`portcullis run ${s} `));
    out.set(s, own ?? example.replace(`portcullis run ${exampleService} `, `portcullis run ${s} `));
  }
  return out;
}

/** Every port number the README's line names (--http-port 9101 --admin-port 9201) becomes a free one. */
async function withFreePorts(line: string, config: string): Promise<{ line: string; http: number; admin: number }> {
  const http = await freePort();
  const admin = await freePort();
  const replaced = line
    .replace(README_CONFIG, config)
    .replace(/--http-port \d+/, `--http-port ${http}`)
    .replace(/--admin-port \d+/, `--admin-port ${admin}`);
  assert.notEqual(replaced, line, `the README's line names the config and the ports: ${line}`);
  return { line: replaced, http, admin };
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): string {
  const r = spawnSync('bash', ['-c', command], { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${command} failed (${r.status ?? r.signal}):\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-3000)}`);
  return r.stdout;
}

describe('the README\'s "Running it for real", from a clean clone', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-readme-'));
  const clone = join(dir, 'portcullis');
  const prefix = join(dir, 'prefix');
  const sink = new MailboxSink();
  const procs: Array<{ name: string; child: ChildProcess; log: () => string; exited: Promise<number | null> }> = [];
  // A stock host: the machine's directories only, so `node` is whatever the OS ships (Node 20 here).
  const env = { ...process.env, PATH: `${prefix}/bin:/usr/local/bin:/usr/bin:/bin`, PORTCULLIS_DNS_SERVERS: DNS_SERVER };

  before(async () => {
    await sink.start();
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await sink.stop().catch(() => undefined);
  });

  it('make && make install, then the five `portcullis run` lines with one config: ready, mail delivered, stopped cleanly', async () => {
    assert.ok(existsSync(join(ROOT, '.git')), 'this checkout is a git repository (CI runs in one)');
    const block = readmeBlock();
    const build = block.find((l) => /^make\b/.test(l));
    assert.equal(build, 'make && make install', "the README's build line");
    sh(`git clone --quiet "${ROOT}" "${clone}"`, dir, process.env, 120_000);
    // The README's build line, with the install's PREFIX kept inside the test's directory.
    sh(`make && make install PREFIX="${prefix}"`, clone, env, 600_000);
    assert.ok(existsSync(join(prefix, 'bin', 'portcullis')), 'make install put portcullis into PREFIX/bin');

    const config = join(dir, 'portcullis.yaml');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, 'readme-token\n', { mode: 0o600 });
    const smtpPort = await freePort();
    // One config for all five: Kafka and Redis (the README: "with bus.kind: kafka and state.kind: redis").
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
    assert.match(readFileSync(config, 'utf8'), /kind: kafka[\s\S]*kind: redis/);

    const ports = new Map<string, { http: number; admin: number }>();
    // Consumers first, as `run all` starts them, so the edge has somewhere to put what it accepts.
    for (const name of [...SERVICES].reverse()) {
      const { line, http, admin } = await withFreePorts(runLines(block).get(name)!, config);
      ports.set(name, { http, admin });
      const child = spawn('bash', ['-c', `exec ${line}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      procs.push({ name, child, log: () => log, exited });
    }
    for (const p of procs) {
      const { http } = ports.get(p.name)!;
      await waitFor(
        `${p.name} ready on ${http}`,
        async () => (p.child.exitCode !== null ? assert.fail(`${p.name} exited ${p.child.exitCode}: ${p.log().slice(-3000)}`) : ready(http)),
        180_000,
        500,
      );
      // Every log line is JSON (no stack traces, no library warnings in another format).
      for (const l of p.log().split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(l), `${p.name} logged a non-JSON line: ${l}`);
    }

    const sent = await sendRaw(smtpPort, makeMessage('README, running it for real'));
    assert.equal(sent.code, 250, sent.response);
    await waitFor('delivered to the mailbox server', () => sink.find(sent.messageId!)[0], 90_000);
    // The admin API on each process's own admin port, with the token from the file.
    const bans = await fetch(`http://127.0.0.1:${ports.get('edge')!.admin}/admin/bans`, { headers: { authorization: 'Bearer readme-token' } });
    assert.equal(bans.status, 200);

    for (const p of [...procs].reverse()) p.child.kill('SIGTERM');
    for (const p of procs) assert.equal(await p.exited, 0, `${p.name} stopped cleanly: ${p.log().slice(-2000)}`);
  });
});
