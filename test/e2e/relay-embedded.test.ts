/**
 * The relay's admin side in embedded mode (in-process bus, in-memory state):
 * the trace and the quarantine work without Kafka or Redis, as in `make run`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailboxSink } from '../support/sink.js';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { adminApi, type TraceTimeline } from '../support/admin-api.js';

describe('embedded mode: message trace and quarantine API', { timeout: 120_000 }, () => {
  const sink = new MailboxSink({ script: (s) => (s.phase === 'rcpt' && s.address?.startsWith('nobody') ? { code: 550, text: '5.1.1 No such user' } : undefined) });
  let gw: GatewayProcess;
  let http: number;
  let admin: number;
  let smtpPort: number;
  const api = adminApi(() => admin, 'embedded-token');
  const get = <T = unknown>(path: string) => api<T>('GET', path);

  before(async () => {
    await sink.start();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-embedded-admin-'));
    writeFileSync(join(dir, 'token'), 'embedded-token');
    http = await freePort();
    admin = await freePort();
    smtpPort = await freePort();
    gw = new GatewayProcess('embedded-admin', {
      services: ['all'],
      smtpPort,
      httpPort: http,
      adminPort: admin,
      downstreamPort: sink.port,
      distributed: false,
      adminTokenFile: join(dir, 'token'),
    });
    await gw.start();
  });

  after(async () => {
    await gw?.stop();
    await sink.stop();
  });

  it('traces a delivery and a bounce; the quarantine answers; a bad token is refused', async () => {
    const r = await sendRaw(smtpPort, makeMessage('embedded trace'), { from: 'sender@sender.test', to: ['postmaster@example.test', 'nobody@example.test'] });
    assert.equal(r.code, 250);
    const t = await waitFor(
      'timeline',
      async () => {
        const x = await get<TraceTimeline>(`trace/${r.messageId}`);
        return x.status === 200 && x.body.events.some((e) => e.event === 'bounce') ? x.body : null;
      },
      30_000,
      100,
    );
    assert.equal(t.summary.outcome, 'partly delivered, bounced');
    assert.ok(t.events.some((e) => e.event === 'delivered' && e.recipient === 'postmaster@example.test'));
    assert.deepEqual((await get('quarantine')).body, { messages: [] });
    const digests = await fetch(`http://127.0.0.1:${admin}/admin/quarantine/digests`, {
      method: 'POST',
      headers: { authorization: 'Bearer embedded-token', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.deepEqual(await digests.json(), { sent: 0 }, 'no domain opted in');
    const bad = await fetch(`http://127.0.0.1:${admin}/admin/trace/${r.messageId}`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(bad.status, 401);
  });
});
