/**
 * Sender authentication end to end: the gateway (embedded mode) resolves on the
 * test DNS server (test/infra/dns.sh, zones in test/infra/dns/zones), and each
 * message sent over SMTP gets the reply the policy says, inside the session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { forwardWithArc, message, sign } from '@portcullis/auth/testing';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

interface Reply {
  code: number;
  response: string;
}

/** Sends as the client the zones know: 127.0.0.1 (in their SPF) saying EHLO mx.spf.test. */
async function send(port: number, raw: Buffer, from: string): Promise<Reply> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'mx.spf.test' });
  try {
    const info = await t.sendMail({ envelope: { from, to: ['postmaster@example.test'] }, raw });
    return { code: 250, response: info.response };
  } catch (err) {
    const e = err as Error & { responseCode?: number; response?: string };
    return { code: e.responseCode ?? 0, response: e.response ?? e.message };
  } finally {
    t.close();
  }
}

const queuedId = (r: Reply) => /queued as ([0-9A-Z]{26})/.exec(r.response)?.[1];

describe('sender authentication in the SMTP session', { timeout: 120_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let port: number;

  before(async () => {
    await sink.start();
    port = await freePort();
    gw = new GatewayProcess('authentication', {
      services: ['all'],
      smtpPort: port,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      extra: 'dns: { timeoutMs: 300, attempts: 1, messageDeadlineMs: 3000 }\nauthentication:\n  arc: { trustedSealers: [forwarder.test] }\n',
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('DMARC p=reject and an unauthenticated message: 550 5.7.1 with the reason', async () => {
    const r = await send(port, message({ from: ['Alice <alice@dmarc-reject.test>'] }), 'bounce@pass.spf.test');
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.1 Rejected: DMARC policy of dmarc-reject\.test rejects unauthenticated mail from dmarc-reject\.test/);
  });

  it('SPF fail: 550 5.7.23', async () => {
    const r = await send(port, message({ from: ['a@fail.spf.test'] }), 'bounce@fail.spf.test');
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.23 Rejected: SPF check failed: fail\.spf\.test does not designate/);
  });

  it('SPF temperror (a look-up that times out): 451 4.4.3', async () => {
    const r = await send(port, message({ from: ['a@temp.spf.test'] }), 'b@temp.spf.test');
    assert.equal(r.code, 451, r.response);
    assert.match(r.response, /^451 4\.4\.3 Try again later: Temporary authentication failure/);
  });

  it('several From headers: 550 5.7.1', async () => {
    const r = await send(port, message({ from: ['a@dmarc-none.test', 'b@dmarc-none.test'] }), 'bounce@dmarc-none.test');
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.1 Rejected: Message rejected: 2 From headers/);
  });

  it('DMARC p=quarantine: accepted (250) and quarantined, not delivered', async () => {
    const r = await send(port, message({ from: ['a@dmarc-quarantine.test'] }), 'bounce@pass.spf.test');
    assert.equal(r.code, 250, r.response);
    await waitFor('the quarantine verdict', async () => /verdict="quarantine"\} 1/.test(await gw.metrics()) || undefined);
    assert.equal(sink.find(queuedId(r)!).length, 0);
  });

  it('an aligned DKIM signature (Ed25519) passes: delivered with our Authentication-Results, the forged one gone', async () => {
    const raw = await sign(message({ from: ['a@dmarc-reject.test'], headers: ['Authentication-Results: mx.test.portcullis; dmarc=pass (forged)'] }), 'dmarc-reject.test', 'ed');
    const r = await send(port, raw, 'bounce@pass.spf.test');
    assert.equal(r.code, 250, r.response);
    const got = await waitFor('delivery', () => sink.find(queuedId(r)!)[0]);
    const head = got.raw
      .toString()
      .split('\r\n\r\n')[0]!
      .replace(/\r\n[ \t]+/g, ' ');
    const ar = head.split('\r\n').filter((l) => l.startsWith('Authentication-Results:'));
    assert.equal(ar.length, 1, head);
    assert.match(ar[0]!, /^Authentication-Results: mx\.test\.portcullis; dkim=pass header\.i=@dmarc-reject\.test .*dmarc=pass/);
    assert.ok(!head.includes('(forged)'));
  });

  it('an ARC-sealed forward by a trusted sealer: the DMARC failure is overridden, delivered', async () => {
    const original = await sign(message({ from: ['Alice <alice@dmarc-reject.test>'] }), 'dmarc-reject.test');
    const raw = await forwardWithArc(original, 'forwarder.test; dkim=pass header.d=dmarc-reject.test; dmarc=pass header.from=dmarc-reject.test');
    const r = await send(port, raw, 'list-bounces@forwarder.test');
    assert.equal(r.code, 250, r.response);
    await waitFor('delivery', () => sink.find(queuedId(r)!)[0]);
  });
});
