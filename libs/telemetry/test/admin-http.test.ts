import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startAdminServer, type AdminServer } from '../src/admin-http.js';
import { startHealthServer, type HealthServer } from '../src/http.js';
import { requestPath } from '../src/request-path.js';

/** Every line the servers log, parsed. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, raw };
}

describe('health and metrics on one listener, the admin API on another', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-http-'));
  const tokenFile = join(dir, 'token');
  const log = capturedLogger();
  const calls: { method: string; path: string[]; query?: Record<string, string> }[] = [];
  let health: HealthServer;
  let admin: AdminServer;
  let healthUrl: string;
  let adminUrl: string;

  before(async () => {
    writeFileSync(tokenFile, 'first-token-0123456789\n');
    const registry = new Registry();
    health = await startHealthServer({ host: '127.0.0.1', port: 0, registry, logger: log.logger });
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, token: async () => readFileSync(tokenFile, 'utf8').trim(), logger: log.logger });
    admin.addAdmin('quarantine', async (req) => {
      calls.push(req);
      return { status: 200, body: { messages: [] } };
    });
    healthUrl = `http://127.0.0.1:${health.address().port}`;
    adminUrl = `http://127.0.0.1:${admin.address().port}`;
    assert.notEqual(health.address().port, admin.address().port);
  });

  after(async () => {
    await Promise.all([health.close(), admin.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('the admin port answers with the token, and only with it', async () => {
    const ok = await fetch(`${adminUrl}/admin/quarantine`, { headers: bearer('first-token-0123456789') });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { messages: [] });
    for (const headers of [{}, bearer('first-token-012345678'), bearer('first-token-0123456789x'), { authorization: 'Basic Zmlyc3QtdG9rZW4=' }, bearer('')]) {
      const res = await fetch(`${adminUrl}/admin/quarantine`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    assert.equal(calls.length, 1, 'refused requests never reach the handler');
    assert.equal((await fetch(`${adminUrl}/admin/nothing-here`, { headers: bearer('first-token-0123456789') })).status, 404);
    assert.equal((await fetch(`${adminUrl}/metrics`)).status, 404, 'the admin port serves no metrics');
  });

  it('the metrics port answers health and metrics, and 404 to /admin even with the right token', async () => {
    assert.equal((await fetch(`${healthUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${healthUrl}/readyz`)).status, 200);
    const metrics = await fetch(`${healthUrl}/metrics`);
    assert.equal(metrics.status, 200);
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await fetch(`${healthUrl}/admin/quarantine?rcpt=alice@example.org`, { method, headers: bearer('first-token-0123456789') });
      assert.equal(res.status, 404, method);
      const body = await res.text();
      assert.doesNotMatch(body, /alice|quarantine/, 'the 404 does not echo the request');
    }
    assert.equal(calls.length, 1);
  });

  it('a rotated token file takes effect at the next request, without a restart', async () => {
    writeFileSync(tokenFile, 'second-token-9876543210\n');
    assert.equal((await fetch(`${adminUrl}/admin/quarantine`, { headers: bearer('first-token-0123456789') })).status, 401);
    assert.equal((await fetch(`${adminUrl}/admin/quarantine`, { headers: bearer('second-token-9876543210') })).status, 200);
  });

  it('an unreadable token file refuses every request (503), never lets one through', async () => {
    rmSync(tokenFile);
    const res = await fetch(`${adminUrl}/admin/quarantine`, { headers: bearer('second-token-9876543210') });
    assert.equal(res.status, 503);
    writeFileSync(tokenFile, 'second-token-9876543210\n');
  });

  it('log lines name the path, never the query string nor the token', async () => {
    const before = log.lines.length;
    const q = 'rcpt=alice%40example.org&subject=merger%20plans&ip=192.0.2.7';
    assert.equal((await fetch(`${adminUrl}/admin/quarantine?${q}`, { headers: bearer('second-token-9876543210') })).status, 200);
    assert.deepEqual(calls.at(-1)?.query, { rcpt: 'alice@example.org', subject: 'merger plans', ip: '192.0.2.7' }, 'the handler still gets the query');
    assert.equal((await fetch(`${adminUrl}/admin/quarantine?${q}`, { headers: bearer('a-guess') })).status, 401);
    const lines = log.lines.slice(before);
    const served = lines.find((l) => l.msg === 'admin request');
    const refused = lines.find((l) => l.msg === 'admin request refused: bad or missing token');
    assert.equal(served?.path, '/admin/quarantine');
    assert.equal(served?.status, 200);
    assert.equal(refused?.path, '/admin/quarantine');
    const text = log.raw.join('\n');
    for (const secret of ['alice', 'merger', '192.0.2.7', 'rcpt=', '?', 'second-token', 'first-token', 'a-guess']) {
      assert.ok(!text.includes(secret), `a log line holds ${secret}: ${text}`);
    }
  });
});

describe('requestPath', () => {
  it('keeps the path and drops the query, whatever the query holds', () => {
    assert.equal(requestPath('/admin/trace?id=01J&rcpt=a@b'), '/admin/trace');
    assert.equal(requestPath('/admin/bans/192.0.2.7'), '/admin/bans/192.0.2.7');
    assert.equal(requestPath('/admin/quarantine?'), '/admin/quarantine');
    assert.equal(requestPath('/admin/x?a=1?b=2#f'), '/admin/x');
  });
});
