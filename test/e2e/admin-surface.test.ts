/**
 * The admin and metrics surface of a running gateway (`portcullis run all`, as `make run` starts
 * it): the admin API only on its own port and only when enabled, the metrics port refusing
 * /admin, and request log lines without query strings or the token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

/** The TCP ports a process listens on, from its socket descriptors and /proc/net/tcp{,6}. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while we looked
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (hex ip:port), st is f[3] (0A = LISTEN), inode is f[9].
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

describe('the admin and metrics surface of a running gateway', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-surface-'));
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'token');
  let off: GatewayProcess;
  let on: GatewayProcess;
  const ports = { offSmtp: 0, offHttp: 0, offAdmin: 0, onSmtp: 0, onHttp: 0, onAdmin: 0 };

  before(async () => {
    writeFileSync(tokenFile, `${token}\n`);
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    // Off: the admin section names a port, which must stay closed.
    off = new GatewayProcess('admin-off', {
      services: ['all'],
      smtpPort: ports.offSmtp,
      httpPort: ports.offHttp,
      distributed: false,
    });
    writeFileSync(
      off.configPath,
      readFileSync(off.configPath, 'utf8').replace(
        /(http:\n  listen: \{[^}]*\}\n)/,
        `$1  admin: { enabled: false, listen: { host: 127.0.0.1, port: ${ports.offAdmin} }, tokenFile: ${tokenFile} }\n`,
      ),
    );
    on = new GatewayProcess('admin-on', {
      services: ['all'],
      smtpPort: ports.onSmtp,
      httpPort: ports.onHttp,
      adminPort: ports.onAdmin,
      adminTokenFile: tokenFile,
      distributed: false,
    });
    await Promise.all([off.start(), on.start()]);
  });

  after(async () => {
    await Promise.all([off?.stop(), on?.stop()]);
  });

  it('admin off: the process listens on SMTP and the metrics port only, and the metrics port answers 404 to /admin', async () => {
    assert.match(readFileSync(off.configPath, 'utf8'), new RegExp(`admin: \\{ enabled: false, listen: \\{ host: 127\\.0\\.0\\.1, port: ${ports.offAdmin} \\}`));
    assert.deepEqual(
      listeningPorts(off.pid!),
      [ports.offSmtp, ports.offHttp].sort((a, b) => a - b),
    );
    await assert.rejects(fetch(`http://127.0.0.1:${ports.offAdmin}/admin/bans`, { headers: { authorization: `Bearer ${token}` } }), /fetch failed/);
    assert.equal((await fetch(`http://127.0.0.1:${ports.offHttp}/admin/bans`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${ports.offHttp}/metrics`)).status, 200);
  });

  it('admin on: a third listener, answering with the token; the metrics port still answers 404 to /admin', async () => {
    assert.deepEqual(
      listeningPorts(on.pid!),
      [ports.onSmtp, ports.onHttp, ports.onAdmin].sort((a, b) => a - b),
    );
    const auth = { authorization: `Bearer ${token}` };
    const bans = await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/bans`, { headers: auth });
    assert.equal(bans.status, 200);
    assert.deepEqual(await bans.json(), { bans: [] });
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/quarantine`, { headers: auth })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/bans`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/bans`, { headers: { authorization: 'Bearer not-the-token' } })).status, 401);
    for (const path of ['bans', 'quarantine', 'trace?rcpt=a@example.test']) {
      assert.equal((await fetch(`http://127.0.0.1:${ports.onHttp}/admin/${path}`, { headers: auth })).status, 404, path);
    }
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/metrics`)).status, 404, 'and the admin port serves no metrics');
    assert.equal((await fetch(`http://127.0.0.1:${ports.onHttp}/readyz`)).status, 200);
  });

  it('a logged admin request names the path only: no query string, no token', async () => {
    const q = `rcpt=carol-${token.slice(0, 4)}%40example.test&subject=board%20minutes&since=2026-01-01T00:00:00Z`;
    const auth = { authorization: `Bearer ${token}` };
    const from = readFileSync(on.logPath, 'utf8').length;
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/trace?${q}`, { headers: auth })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.onAdmin}/admin/quarantine?${q}`, { headers: { authorization: 'Bearer wrong-guess' } })).status, 401);
    const lines = await waitFor(
      'both admin requests logged',
      () => {
        const found = readFileSync(on.logPath, 'utf8')
          .slice(from)
          .split('\n')
          .filter((l) => l.includes('"msg":"admin request'));
        return found.length >= 2 ? found : null;
      },
      10_000,
      100,
    );
    const served = JSON.parse(lines.find((l) => l.includes('"msg":"admin request"'))!) as Record<string, unknown>;
    assert.equal(served.path, '/admin/trace');
    assert.equal(served.status, 200);
    const refused = JSON.parse(lines.find((l) => l.includes('refused'))!) as Record<string, unknown>;
    assert.equal(refused.path, '/admin/quarantine');
    const log = readFileSync(on.logPath, 'utf8');
    for (const leak of [token, 'wrong-guess', 'carol', 'board', 'rcpt=', 'since=']) assert.ok(!log.includes(leak), `the log holds ${leak}`);
  });
});
