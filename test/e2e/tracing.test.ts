/**
 * One trace per message across five processes over the real broker, received
 * by an OTLP/HTTP endpoint from the real exporter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxSink } from '../support/sink.js';
import { freePort, startDistributed, type GatewayProcess } from '../support/gateway.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { sendRawData } from '../support/raw-smtp.js';
import { waitFor } from '../support/wait.js';

describe('tracing across the services', { timeout: 300_000 }, () => {
  const sink = new MailboxSink();
  const otlp = new OtlpReceiver();
  let procs: Map<string, GatewayProcess>;
  let smtpPort: number;

  before(async () => {
    await sink.start();
    await otlp.start();
    smtpPort = await freePort();
    procs = await startDistributed({
      smtpPort,
      downstreamPort: sink.port,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlp.port}`, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  });

  after(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop('SIGTERM')));
    await otlp.stop();
    await sink.stop();
  });

  it('gives a message one trace with a span from every service, each parented on the one before', async () => {
    const r = await sendRaw(smtpPort, makeMessage(`traced ${Date.now()}`));
    assert.equal(r.code, 250, r.response);
    const delivered = await waitFor('delivery', () => sink.find(r.messageId!)[0], 60_000);
    const traceId = /\(trace ([0-9a-f]{32})\)/.exec(delivered.raw.toString('latin1', 0, 800))?.[1];
    assert.ok(traceId, 'the trace id is in the Received header');

    const chain = ['smtp DATA', 'auth process', 'reputation process', 'content process', 'relay process'];
    const spans = await waitFor('all five spans', () => {
      const mine = otlp.spans.filter((s) => s.traceId === traceId);
      return chain.every((n) => mine.some((s) => s.name === n)) ? mine : null;
    }, 30_000, 200);
    const byName = (n: string) => spans.find((s) => s.name === n)!;
    assert.equal(byName('smtp DATA').parentSpanId, '', 'the edge starts the trace');
    for (let i = 1; i < chain.length; i++) {
      assert.equal(byName(chain[i]!).parentSpanId, byName(chain[i - 1]!).spanId, `${chain[i]} is a child of ${chain[i - 1]}`);
    }
    assert.deepEqual(
      chain.map((n) => byName(n).service),
      ['portcullis-edge', 'portcullis-auth', 'portcullis-reputation', 'portcullis-content', 'portcullis-relay'],
    );
    assert.equal(byName('smtp DATA').attributes['portcullis.message_id'], r.messageId);
    assert.equal(byName('smtp DATA').attributes['portcullis.verdict'], 'deliver');
  });

  it('traces a reject at RCPT with its reason', async () => {
    const reply = await sendRawData(smtpPort, 'Subject: x\r\n\r\nbody\r\n.\r\n', 'someone@elsewhere.test');
    assert.match(reply, /^550 5\.7\.1 /);
    const span = await waitFor('the RCPT span', () =>
      otlp.spans.find((s) => s.name === 'smtp RCPT' && s.attributes['smtp.reply_code'] === 550),
    );
    assert.match(String(span.attributes['portcullis.reason']), /Relay access denied/);
    assert.equal(span.service, 'portcullis-edge');
  });
});
