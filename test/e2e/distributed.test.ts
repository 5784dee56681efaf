/**
 * End to end over the real broker: every service in its own process, Kafka
 * and Redis as in the cluster, a real SMTP server playing the mailbox server.
 * Needs the broker and Redis that `make test` starts (test/infra).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, Headers } from '@portcullis/contract';
import { MailboxSink } from '../support/sink.js';
import { freePort, startDistributed, type GatewayProcess } from '../support/gateway.js';
import { makeLargeMessage, makeMessage, sendRaw, type SendResult } from '../support/smtp.js';
import { kafkaCtl } from '../support/kafka.js';
import { KAFKA_BROKERS } from '../support/paths.js';
import { sleep, waitFor } from '../support/wait.js';
import { readDeadLetter } from '../support/dead-letter.js';

describe('pipeline over Kafka, one process per service', { timeout: 600_000 }, () => {
  const sink = new MailboxSink();
  let procs: Map<string, GatewayProcess>;
  let smtpPort: number;
  const proc = (name: string) => procs.get(name)!;

  before(async () => {
    await sink.start();
    smtpPort = await freePort();
    procs = await startDistributed({ smtpPort, downstreamPort: sink.port, verdictTimeoutMs: 5000, storeTimeoutMs: 3000 });
  });

  after(async () => {
    await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
    await sink.stop();
  });

  async function deliveredCopy(r: SendResult, timeoutMs = 60_000) {
    assert.equal(r.code, 250, r.response);
    assert.ok(r.messageId, `no message id in "${r.response}"`);
    return waitFor(`delivery of ${r.messageId}`, () => sink.find(r.messageId!)[0], timeoutMs);
  }

  it('delivers the message byte for byte, with only trace headers added, and answers with the verdict in session', async () => {
    const original = makeMessage(`byte-identical ${Date.now()}`, ['Line one', '.leading dot survives dot-stuffing', 'caf\u00e9 is 8-bit'.replace('\u00e9', 'e'), '']);
    const r = await sendRaw(smtpPort, original);
    const got = await deliveredCopy(r);
    assert.deepEqual(got.to, ['postmaster@example.test']);
    assert.equal(got.from, 'sender@sender.test');
    const added = got.raw.subarray(0, got.raw.length - original.length);
    assert.ok(got.raw.subarray(added.length).equals(original), 'message body and headers must arrive unchanged');
    assert.match(added.toString(), /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.portcullis \(Portcullis\) with ESMTP id [0-9A-Z]{26}\r\n/m);
    const names = added
      .toString()
      .split('\r\n')
      .filter((l) => /^\S/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    assert.deepEqual(names, ['Received-SPF', 'Authentication-Results', 'Received'], "only trace headers added: the auth stage's on top of the edge's Received");
    // The 250 came from the pipeline's verdict, not from the deadline.
    const metrics = await proc('edge').metrics();
    assert.match(metrics, /portcullis_edge_data_replies_total\{code="250",outcome="accepted",verdict="deliver"\} [1-9]/);
  });

  it('carries a 20 MiB message through the broker unchanged', async () => {
    const original = makeLargeMessage(`large ${Date.now()}`, 20 * 1024 * 1024);
    assert.ok(original.length >= 20 * 1024 * 1024);
    const r = await sendRaw(smtpPort, original);
    const got = await deliveredCopy(r, 120_000);
    assert.ok(got.raw.subarray(got.raw.length - original.length).equals(original));
  });

  it('sends a record that cannot be read to the dead-letter topic and keeps consuming', async () => {
    const kafka = new Kafka({ clientId: 'portcullis-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const key = `garbage-${Date.now()}`;
    await producer.send({ topic: Topics.accepted, messages: [{ key, value: Buffer.from('this is not a mail record') }] });
    await producer.disconnect();

    const found = await readDeadLetter(key, kafka);
    assert.equal(found.headers[Headers.deadLetterTopic], Topics.accepted);
    assert.match(found.headers[Headers.deadLetterReason] ?? '', /separator/);
    assert.equal(found.value, 'this is not a mail record');

    // The stage behind it is not stuck.
    await deliveredCopy(await sendRaw(smtpPort, makeMessage(`after-garbage ${Date.now()}`)));
  });

  it('answers 451 4.3.0 while Kafka is down, stores nothing, and recovers when it is back', async () => {
    await kafkaCtl('stop');
    let refused: SendResult;
    try {
      refused = await sendRaw(smtpPort, makeMessage(`kafka-down ${Date.now()}`));
    } finally {
      await kafkaCtl('start');
    }
    assert.equal(refused.code, 451, refused.response);
    assert.match(refused.response, /^451 4\.3\.0 /);
    assert.ok(refused.messageId);
    await waitFor('every service ready again', async () => (await Promise.all([...procs.values()].map((p) => p.ready()))).every(Boolean), 120_000, 500);

    // A sender retries after a 451; the producer needs a few seconds after the broker is back
    // (kafkajs's reconnect back-off), so retry the way a client would, briefly.
    const after = await waitFor(
      'a 250 once Kafka is back',
      async () => {
        const r = await sendRaw(smtpPort, makeMessage(`kafka-back ${Date.now()}`));
        return r.code === 250 ? r : null;
      },
      60_000,
      1000,
    );
    await deliveredCopy(after, 120_000);
    // Give any late write of the refused message time to travel the pipeline: it must not arrive.
    await sleep(5000);
    assert.equal(sink.find(refused.messageId!).length, 0, 'a message answered 451 must not be delivered');
  });

  it('delivers every message that got a 250 when the relay is killed with SIGKILL mid-stream', async () => {
    const total = 40;
    const accepted: string[] = [];
    let sent = 0;
    const sender = async () => {
      while (sent < total) {
        const n = sent++;
        const r = await sendRaw(smtpPort, makeMessage(`sigkill ${n} ${Date.now()}`));
        if (r.code === 250 && r.messageId) accepted.push(r.messageId);
      }
    };
    const senders = Promise.all([sender(), sender(), sender(), sender()]);
    await waitFor('some messages accepted', () => accepted.length >= 10, 60_000, 20);
    await proc('relay').stop('SIGKILL');
    await sleep(1000);
    await proc('relay').start();
    await senders;
    assert.ok(accepted.length >= total - 4, `most messages should be accepted, got ${accepted.length}`);
    await waitFor('every accepted message delivered', () => accepted.every((id) => sink.find(id).length > 0), 120_000, 500);
  });
});
