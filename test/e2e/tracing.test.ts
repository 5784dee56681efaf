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
    const spans = await waitFor(
      'all five spans',
      () => {
        const mine = otlp.spans.filter((s) => s.traceId === traceId);
        return chain.every((n) => mine.some((s) => s.name === n)) ? mine : null;
      },
      30_000,
      200,
    );
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
    const delivery = await waitFor('the delivery span', () => otlp.spans.find((s) => s.traceId === traceId && s.name === 'relay deliver smtp'), 10_000);
    assert.equal(delivery.parentSpanId, byName('relay process').spanId, 'delivery is a child of the relay stage');
    assert.equal(delivery.attributes['portcullis.delivered'], 1);
  });

  it('serves /metrics in the Prometheus text format on every service, and the counters move', async () => {
    const edge = procs.get('edge')!;
    const before = sample(parseExposition(await edge.metrics()), 'portcullis_edge_data_replies_total', { code: '250' });
    const r = await sendRaw(smtpPort, makeMessage(`metrics ${Date.now()}`));
    assert.equal(r.code, 250);
    await waitFor('delivery', () => sink.find(r.messageId!)[0], 60_000);
    const after = parseExposition(await edge.metrics());
    assert.equal(sample(after, 'portcullis_edge_data_replies_total', { code: '250' }), before + 1);
    assert.ok(sample(after, 'portcullis_kafka_produce_seconds_count', { topic: 'portcullis.mail.accepted.v1' }) >= 1);
    for (const [name, p] of procs) {
      const m = parseExposition(await p.metrics());
      assert.ok(m.length > 20, `${name} exports metrics`);
      if (name !== 'edge') {
        assert.ok(
          m.some((x) => x.name === 'portcullis_stage_records_total'),
          `${name} counts records`,
        );
        assert.ok(
          m.some((x) => x.name === 'portcullis_kafka_consumer_lag'),
          `${name} reports consumer lag`,
        );
      }
    }
    const relay = parseExposition(await procs.get('relay')!.metrics());
    assert.ok(sample(relay, 'portcullis_relay_recipients_total', { status: 'delivered' }) >= 1);
  });

  it('traces a reject at RCPT with its reason', async () => {
    const reply = await sendRawData(smtpPort, 'Subject: x\r\n\r\nbody\r\n.\r\n', 'someone@elsewhere.test');
    assert.match(reply, /^550 5\.7\.1 /);
    const span = await waitFor('the RCPT span', () => otlp.spans.find((s) => s.name === 'smtp RCPT' && s.attributes['smtp.reply_code'] === 550));
    assert.match(String(span.attributes['portcullis.reason']), /Relay access denied/);
    assert.equal(span.service, 'portcullis-edge');
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text exposition format (0.0.4): every line must parse. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not exposition format: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/\b([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples with this name whose labels include the given ones. */
function sample(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
