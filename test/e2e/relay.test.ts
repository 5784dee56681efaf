/**
 * The relay with real peers: Kafka and Redis as in the cluster, the front
 * stages in one process and the relay in another, and real SMTP servers on
 * loopback: the mailbox server (scripted per recipient and attempt), a legacy
 * mailbox server without 8BITMIME/SMTPUTF8, the "Internet" where bounces to
 * the senders arrive (relay.outbound.smarthost), and a destination that is
 * down until the test starts it. Shortened schedule: retries after 1 s then 2 s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, encodeMail, newMessageId, verdict } from '@portcullis/contract';
import { MailboxSink, type ScriptStep } from '../support/sink.js';
import { GatewayProcess, freePort, type GatewayOptions } from '../support/gateway.js';
import { makeMessage, sendRaw, type SendResult } from '../support/smtp.js';
import { sendRawData } from '../support/raw-smtp.js';
import { CLI, KAFKA_BROKERS } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { adminApi, type QuarantineAudit, type QuarantineList, type QuarantineView, type TraceSearch, type TraceTimeline } from '../support/admin-api.js';

const TOKEN = 'relay-test-admin-token';
const run = promisify(execFile);

function script(step: ScriptStep) {
  if (step.phase !== 'rcpt') return undefined;
  const local = step.address!.split('@')[0]!;
  if (local.startsWith('tempfail') && step.attempt <= 2) return { code: 451, text: '4.2.1 Mailbox busy, try again later' };
  if (local.startsWith('unknown')) return { code: 550, text: '5.1.1 No such user here' };
  if (local.startsWith('forever')) return { code: 452, text: '4.2.2 Mailbox full' };
  if (local.startsWith('bye') && step.attempt === 1) return { code: 421, text: '4.3.2 Shutting down, come back later' };
  if (local.startsWith('dropper') && step.attempt === 1) return 'drop' as const;
  return undefined;
}

describe('relay: retries, bounces, circuit, 8-bit, quarantine and trace, over Kafka and Redis', { timeout: 600_000 }, () => {
  const mailbox = new MailboxSink({ script });
  const legacy = new MailboxSink({ hide8bit: true, hideSmtputf8: true });
  const internet = new MailboxSink();
  let circuitPort: number;
  let smtpPort: number;
  let front: GatewayProcess;
  let relay: GatewayProcess;
  let relayAdmin: number;
  let forever: SendResult;
  const tag = Date.now().toString(36);

  const admin = adminApi(() => relayAdmin, TOKEN);
  const timeline = (id: string, until: (events: { event: string }[]) => boolean) =>
    waitFor(
      `trace of ${id}`,
      async () => {
        const t = await admin<TraceTimeline>('GET', `trace/${id}`);
        return t.status === 200 && until(t.body.events) ? t.body : null;
      },
      60_000,
      200,
    );
  const send = async (to: string[], subject: string, from = 'sender@sender.test', body?: Buffer) => {
    const r = await sendRaw(smtpPort, body ?? makeMessage(subject), { from, to });
    assert.equal(r.code, 250, r.response);
    return r;
  };
  const dsnsFor = (needle: string) => internet.messages.filter((m) => m.raw.toString('latin1').includes(needle));

  before(async () => {
    await Promise.all([mailbox.start(), legacy.start(), internet.start()]);
    circuitPort = await freePort();
    smtpPort = await freePort();
    relayAdmin = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-relay-test-'));
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, TOKEN);
    const common: Omit<GatewayOptions, 'services' | 'httpPort'> = {
      smtpPort,
      downstreamPort: mailbox.port,
      distributed: true,
      adminTokenFile: tokenFile,
      extra: 'flow:\n  allow: [127.0.0.1/32]\n',
      domainsExtra: `  - name: legacy.test\n    downstream: { host: 127.0.0.1, port: ${legacy.port}, tls: none }\n  - name: circuit.test\n    downstream: { host: 127.0.0.1, port: ${circuitPort}, tls: none }\n`,
      relayExtra:
        `  maxAgeSeconds: 25\n  delayNoticeAfterSeconds: 4\n  circuit: { failureThreshold: 3, openSeconds: 4 }\n` +
        `  outbound: { smarthost: { host: 127.0.0.1, port: ${internet.port}, tls: none } }\n`,
    };
    relay = new GatewayProcess('relay', { ...common, services: ['relay'], httpPort: await freePort(), adminPort: relayAdmin });
    front = new GatewayProcess('front', { ...common, services: ['edge', 'auth', 'reputation', 'content'], httpPort: await freePort(), adminPort: await freePort() });
    await relay.start();
    await front.start();
    // Started first: it needs the maximum age (25 s) to run out.
    forever = await send([`forever-${tag}@example.test`], `forever ${tag}`);
  });

  after(async () => {
    await Promise.all([front?.stop(), relay?.stop()]);
    await Promise.all([mailbox.stop(), legacy.stop(), internet.stop()]);
  });

  it('retries a 4xx on the schedule and delivers; the trace shows every step', async () => {
    const rcpt = `tempfail-${tag}@example.test`;
    const r = await send([rcpt], `tempfail ${tag}`);
    await waitFor('delivery after two 451s', () => mailbox.find(r.messageId!)[0], 60_000);
    const tries = mailbox.rcptLog.filter((x) => x.address === rcpt);
    assert.deepEqual(
      tries.map((t) => t.code),
      [451, 451, 250],
    );
    assert.ok(tries[1]!.at - tries[0]!.at >= 900, `first retry after ${tries[1]!.at - tries[0]!.at} ms, schedule says 1 s`);
    assert.ok(tries[2]!.at - tries[1]!.at >= 1900, `second retry after ${tries[2]!.at - tries[1]!.at} ms, schedule says 2 s`);
    assert.ok(tries[1]!.at - tries[0]!.at < 4000 && tries[2]!.at - tries[1]!.at < 5000, 'and not much later either');
    const t = await timeline(r.messageId!, (ev) => ev.some((e) => e.event === 'delivered'));
    const names = t.events.map((e) => e.event);
    for (const step of ['accepted', 'verdict', 'temporary failure', 'retry scheduled', 'delivered']) assert.ok(names.includes(step), `${step} in ${names}`);
    assert.equal(names.filter((n) => n === 'temporary failure').length, 2);
    assert.equal(t.summary.outcome, 'delivered');
    // Found by every key the operator may have.
    for (const q of [
      `messageId=${encodeURIComponent(`<tempfail${tag}@sender.test>`)}`,
      `rcpt=${rcpt}`,
      'from=sender@sender.test&limit=1000',
      'ip=127.0.0.1&limit=1000',
      `since=${new Date(Date.now() - 60_000).toISOString()}&limit=1000`,
    ]) {
      const found = await admin<TraceSearch>('GET', `trace?${q}`);
      assert.ok(
        found.body.messages.some((m) => m.id === r.messageId),
        `search ${q}`,
      );
    }
  });

  it('a 5xx bounces to the envelope sender with an RFC 3464 report; the other recipient is delivered', async () => {
    const r = await send([`ok-${tag}@example.test`, `unknown-${tag}@example.test`], `mixed ${tag}`);
    await waitFor('the good recipient', () => mailbox.find(r.messageId!)[0], 30_000);
    assert.deepEqual(mailbox.find(r.messageId!)[0]!.to, [`ok-${tag}@example.test`]);
    const dsn = await waitFor('the DSN', () => dsnsFor(`Final-Recipient: rfc822; unknown-${tag}@example.test`)[0], 30_000);
    const text = dsn.raw.toString('latin1');
    assert.equal(dsn.from, '', 'a DSN is sent from the null sender');
    assert.deepEqual(dsn.to, ['sender@sender.test']);
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(text, /Action: failed\r\nStatus: 5\.1\.1\r\n/);
    assert.match(text, new RegExp(`Subject: mixed ${tag}`), 'the original headers come back');
    assert.ok(!text.includes(`Final-Recipient: rfc822; ok-${tag}`), 'only the failed recipient is reported');
  });

  it('never bounces to the null sender; a recipient refused in session is traced and bounced to nobody', async () => {
    const r = await send([`unknown-null-${tag}@example.test`], `null sender ${tag}`, '');
    const t = await timeline(r.messageId!, (ev) => ev.some((e) => e.event === 'no bounce'));
    assert.ok(t.events.some((e) => e.event === 'permanent failure'));
    const refused = await sendRaw(smtpPort, makeMessage(`not ours ${tag}`), { from: 'sender@sender.test', to: [`someone-${tag}@not-ours.test`] });
    assert.equal(refused.code, 550);
    const found = await waitFor('the refusal in the trace', async () => (await admin<TraceSearch>('GET', `trace?rcpt=someone-${tag}@not-ours.test`)).body.messages[0], 10_000);
    assert.match(found.outcome, /^refused at RCPT: 550 5\./);
    assert.equal(dsnsFor(`null sender ${tag}`).length + dsnsFor(`someone-${tag}@not-ours.test`).length, 0);
    const bare = await sendRawData(smtpPort, 'Subject: bare\r\n\r\nline one\nline two\r\n.\r\n', `bare-${tag}@example.test`);
    assert.match(bare, /^550 5\.6\.0 /);
    const atData = await waitFor('the DATA refusal in the trace', async () => (await admin<TraceSearch>('GET', `trace?rcpt=bare-${tag}@example.test`)).body.messages[0], 10_000);
    assert.match(atData.outcome, /^refused at DATA: 550 5\.6\.0/);
  });

  it('a 421 and a dropped connection are retried and delivered', async () => {
    const a = await send([`bye-${tag}@example.test`], `bye ${tag}`);
    const b = await send([`dropper-${tag}@example.test`], `dropper ${tag}`);
    await waitFor('both delivered', () => mailbox.find(a.messageId!).length && mailbox.find(b.messageId!).length, 30_000);
    assert.equal(mailbox.find(a.messageId!).length, 1);
    assert.equal(mailbox.find(b.messageId!).length, 1);
  });

  it('8-bit goes as 8BITMIME where offered, as quoted-printable where not; a UTF-8 address to a server without SMTPUTF8 bounces', async () => {
    const body = Buffer.from(
      `From: sender@sender.test\r\nTo: u@legacy.test\r\nSubject: eight ${tag}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncafé crème\r\n`,
      'utf8',
    );
    const modern = await send([`eight-${tag}@example.test`], '', 'sender@sender.test', body);
    const old = await send([`u-${tag}@legacy.test`], '', 'sender@sender.test', body);
    const m = await waitFor('8-bit copy', () => mailbox.find(modern.messageId!)[0], 30_000);
    assert.equal(m.body, '8BITMIME');
    assert.ok(m.raw.includes(Buffer.from('café crème')));
    const l = await waitFor('7-bit copy', () => legacy.find(old.messageId!)[0], 30_000);
    assert.equal(l.body, undefined);
    assert.ok(![...l.raw].some((c) => c > 0x7f), 'nothing 8-bit reaches a server without 8BITMIME');
    assert.match(l.raw.toString(), /Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 cr=C3=A8me/);
    const bareLineEnding = /[^\r]\n|\r(?!\n)/;
    for (const copy of [m, l]) assert.ok(!bareLineEnding.test(copy.raw.toString('latin1')), 'CRLF only on the wire');
    const utf8 = await send([`jörg-${tag}@legacy.test`], `utf8 ${tag}`);
    const dsn = await waitFor('SMTPUTF8 bounce', () => dsnsFor(`Final-Recipient: utf-8; j\\x{F6}rg-${tag}@legacy.test`)[0], 30_000);
    assert.match(dsn.raw.toString('latin1'), /Status: 5\.6\.7/);
    assert.ok(!bareLineEnding.test(dsn.raw.toString('latin1')), 'a DSN is CRLF only');
    assert.equal(legacy.find(utf8.messageId!).length, 0);
  });

  it('the circuit opens when a destination is down, holds its mail without spending attempts, and closes by itself', async () => {
    const first = [];
    for (let i = 1; i <= 3; i++) first.push(await send([`c${i}-${tag}@circuit.test`], `circuit ${i} ${tag}`));
    await waitFor('circuit open', async () => /portcullis_relay_circuit_opened_total\{destination="127\.0\.0\.1:\d+"\} [1-9]/.test(await relay.metrics()), 30_000);
    const held = await send([`c4-${tag}@circuit.test`], `circuit 4 ${tag}`);
    const t = await timeline(held.messageId!, (ev) => ev.some((e) => e.event === 'held (circuit open)'));
    assert.ok(!t.events.some((e) => e.event === 'temporary failure'), 'held, not tried');
    const down = new MailboxSink();
    await down.start(circuitPort);
    try {
      for (const r of [...first, held]) await waitFor(`delivery of ${r.messageId} after the circuit closed`, () => down.find(r.messageId!)[0], 60_000);
      for (const r of [...first, held]) assert.equal(down.find(r.messageId!).length, 1);
      assert.match(readFileSync(relay.logPath, 'utf8'), /"msg":"circuit closed"/);
    } finally {
      await down.stop();
    }
  });

  it('quarantine: listed, searched, viewed as safe text, released (delivered, audited) or deleted, over the API and the CLI', async () => {
    const ids = [newMessageId(), newMessageId()];
    const raw = (i: number) =>
      Buffer.from(
        `From: bad@spam.test\r\nTo: q@example.test\r\nSubject: held ${i} ${tag}\r\nMessage-ID: <held${i}${tag}@spam.test>\r\nContent-Type: text/html\r\n\r\n<p>Buy <script>alert(1)</script>now</p>\r\n`,
      );
    const kafka = new Kafka({ clientId: 'relay-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    // What the content stage would publish for a quarantine verdict.
    await producer.send({
      topic: Topics.decided,
      messages: ids.map((id, i) => ({
        key: id,
        value: encodeMail({
          meta: {
            v: 1,
            id,
            size: raw(i).length,
            results: [],
            envelope: {
              listener: 'mx',
              client: { ip: '203.0.113.9', port: 1234 },
              helo: 'spam.test',
              tls: null,
              auth: null,
              mailFrom: 'bad@spam.test',
              body: '7BIT',
              smtputf8: false,
              rcptTo: [`q-${tag}@example.test`],
              receivedAt: new Date().toISOString(),
            },
            verdict: verdict('quarantine', 'spam score 12.5 over 10', 'content.verdict'),
          },
          raw: raw(i),
        }),
      })),
    });
    await producer.disconnect();
    const listed = await waitFor(
      'both in the quarantine',
      async () => {
        const l = await admin<QuarantineList>('GET', `quarantine?rcpt=q-${tag}@example.test`);
        return l.body.messages.length === 2 ? l.body.messages : null;
      },
      60_000,
      300,
    );
    assert.equal(listed[0]!.reason, 'spam score 12.5 over 10');
    assert.equal((await admin<QuarantineList>('GET', `quarantine?subject=held 1 ${tag}`)).body.messages[0]!.id, ids[1]);
    assert.equal((await admin<QuarantineList>('GET', `quarantine?reason=score 12.5&from=bad@spam.test&rcpt=q-${tag}@example.test`)).body.messages.length, 2);
    const viewStart = performance.now();
    const view = await admin<QuarantineView>('GET', `quarantine/${ids[0]}`);
    console.log(`# quarantine view (index lookup + Kafka fetch by offset): ${Math.round(performance.now() - viewStart)} ms`);
    assert.equal(view.status, 200);
    assert.match(view.body.message.text, /Buy/);
    assert.doesNotMatch(JSON.stringify(view.body.message), /<script|alert\(1\)/);
    assert.ok(view.body.message.headers.some((h) => h.name === 'Subject' && h.value === `held 0 ${tag}`));

    // The CLI finds the admin listener and the token file in the relay's config (http.admin).
    const tokenArgs = ['--config', relay.configPath];
    const list = await run(process.execPath, [CLI, 'quarantine', 'list', '--rcpt', `q-${tag}@example.test`, ...tokenArgs], { encoding: 'utf8' });
    assert.match(list.stdout, new RegExp(`${ids[0]}.*held`));
    const released = await run(process.execPath, [CLI, 'quarantine', 'release', ids[0]!, '--by', 'alice', ...tokenArgs], { encoding: 'utf8' });
    assert.match(released.stdout, /"status": "released"/);
    const got = await waitFor('the released message delivered', () => mailbox.to(`q-${tag}@example.test`)[0], 30_000);
    assert.match(got.raw.toString(), new RegExp(`Subject: held 0 ${tag}`));
    assert.equal((await admin<QuarantineView>('GET', `quarantine/${ids[0]}`)).body.entry.releasedBy, 'alice');
    const audit = (await admin<QuarantineAudit>('GET', 'quarantine/audit')).body.audit;
    assert.ok(audit.some((a) => a.id === ids[0] && a.action === 'release' && a.by === 'alice'));
    assert.equal((await admin('DELETE', `quarantine/${ids[1]}`, { by: 'bob' })).status, 200);
    assert.equal((await admin('GET', `quarantine/${ids[1]}`)).status, 404);
    const trace = await run(process.execPath, [CLI, 'trace', ids[0]!, ...tokenArgs], { encoding: 'utf8' });
    assert.match(trace.stdout, /quarantined/);
    assert.match(trace.stdout, /released from quarantine by alice/);
  });

  it('undeliverable past the maximum age: a delay notice first, then a bounce with 4.4.7', async () => {
    const delayed = await waitFor('delay notice', () => dsnsFor(`Subject: forever ${tag}`).find((m) => m.raw.includes('Action: delayed')), 60_000);
    assert.match(delayed.raw.toString(), /Status: 4\.2\.2/);
    const bounced = await waitFor('bounce after the maximum age', () => dsnsFor(`Subject: forever ${tag}`).find((m) => m.raw.includes('Action: failed')), 60_000);
    assert.match(bounced.raw.toString(), /Status: 4\.4\.7/);
    assert.equal(dsnsFor(`Subject: forever ${tag}`).filter((m) => m.raw.includes('Action: delayed')).length, 1, 'one delay notice');
    assert.equal(mailbox.find(forever.messageId!).length, 0);
    const t = await timeline(forever.messageId!, (ev) => ev.some((e) => e.event === 'expired'));
    assert.ok(t.events.some((e) => e.event === 'bounce'));
  });
});
