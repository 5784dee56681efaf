/**
 * The short-circuit end to end (embedded gateway, the real test DNS server, clamd and rspamd): a
 * message the auth stage has already decided to reject (DMARC p=reject, not authenticated) costs
 * reputation no URIBL look-up and content no clamd, rspamd or rules work; each records a `skip`
 * result naming auth.dmarc, seen in the message trace, and the sender gets the same 550 as before.
 * The same message signed (DMARC passes) goes through every check: the counters do count.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { message, sign } from '@portcullis/auth/testing';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { metricSum } from '../support/metrics.js';
import { CLAMD, RSPAMD } from '../support/scanners.js';
import { sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';

const TEST_DNS = process.env.PORTCULLIS_TEST_DNS || `127.0.0.1:${15353 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET || 0)}`;
const URIBL = 'uribl.portcullis.test';
const ENVELOPE = { from: 'bounce@pass.spf.test', to: ['postmaster@example.test'] };
/** A link whose domain the URIBL is asked about (not listed there). */
const BODY = 'Hello Bob,\r\nthe figures are at https://figures.example.org/q4 as promised.\r\n';

interface Timeline {
  events: Array<{ stage: string; event: string; outcome?: string; detail: string }>;
}

describe("a record already decided to reject skips the later stages' work", { timeout: 180_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let port: number;
  let adminPort: number;

  before(async () => {
    await sink.start();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-short-circuit-'));
    writeFileSync(join(dir, 'token'), 'skip-token\n', { mode: 0o600 });
    [port, adminPort] = [await freePort(), await freePort()];
    const extra = `dns: { servers: ["${TEST_DNS}"], timeoutMs: 500, attempts: 1, messageDeadlineMs: 3000 }
reputation:
  content:
    lists: [{ zone: ${URIBL}, weight: 5, bits: [{ bit: 2, meaning: black }] }]
content:
  antivirus: { enabled: true, address: "${CLAMD}", timeoutMs: 5000, onFailure: tempfail }
  antispam: { enabled: true, url: "${RSPAMD}", timeoutMs: 5000, onFailure: tempfail }
`;
    gw = new GatewayProcess('short-circuit', {
      services: ['all'],
      smtpPort: port,
      httpPort: await freePort(),
      adminPort,
      adminTokenFile: join(dir, 'token'),
      downstreamPort: sink.port,
      distributed: false,
      verdictTimeoutMs: 10_000,
      extra,
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  const work = async () => {
    const m = await gw.metrics();
    return {
      uribl: metricSum(m, 'portcullis_dnsbl_lookups_total', { zone: URIBL }),
      clamd: metricSum(m, 'portcullis_content_check_duration_seconds_count', { check: 'antivirus' }),
      rspamd: metricSum(m, 'portcullis_content_check_duration_seconds_count', { check: 'antispam' }),
      reputationSkipped: metricSum(m, 'portcullis_reputation_skipped_total', { decided_by: 'auth.dmarc' }),
      contentSkipped: metricSum(m, 'portcullis_content_skipped_total', { decided_by: 'auth.dmarc' }),
    };
  };

  it('DMARC p=reject failed: the same 550 5.7.1, with no URIBL query, no clamd or rspamd call, and the skips in the trace', async () => {
    const r = await sendRaw(port, message({ from: ['Alice <alice@dmarc-reject.test>'], body: BODY }), ENVELOPE);
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.1 Rejected: DMARC policy of dmarc-reject\.test rejects unauthenticated mail from dmarc-reject\.test/);
    assert.deepEqual(await work(), { uribl: 0, clamd: 0, rspamd: 0, reputationSkipped: 1, contentSkipped: 1 });

    assert.ok(r.messageId, `the reply quotes the message id: ${r.response}`);
    const timeline = await waitFor('the trace of the refused message', async () => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/admin/trace/${r.messageId}`, { headers: { authorization: 'Bearer skip-token' } });
      return res.status === 200 ? ((await res.json()) as Timeline) : undefined;
    });
    const skipped = timeline.events.filter((e) => e.outcome === 'skip' && /already demands reject/.test(e.detail));
    assert.deepEqual(
      skipped.map((e) => `${e.stage} ${e.event}: ${e.detail}`),
      ['reputation reputation.checks', 'content content.antivirus', 'content content.antispam', 'content content.rules'].map(
        (c) => `${c}: not run: auth.dmarc already demands reject`,
      ),
    );
    assert.ok(
      timeline.events.some((e) => e.event === 'verdict' && e.outcome === 'reject'),
      JSON.stringify(timeline.events),
    );
  });

  it('the same message signed (DMARC passes) is looked up and scanned by both engines, and delivered', async () => {
    const before = await work();
    const raw = await sign(message({ from: ['Alice <alice@dmarc-reject.test>'], body: BODY }), 'dmarc-reject.test');
    const r = await sendRaw(port, raw, ENVELOPE);
    assert.equal(r.code, 250, r.response);
    await waitFor('delivery', () => sink.find(r.messageId!)[0]);
    const now = await work();
    assert.ok(now.uribl > before.uribl, 'the URIBL was asked');
    assert.equal(now.clamd, before.clamd + 1);
    assert.equal(now.rspamd, before.rspamd + 1);
    assert.deepEqual([now.reputationSkipped, now.contentSkipped], [1, 1]);
  });
});
