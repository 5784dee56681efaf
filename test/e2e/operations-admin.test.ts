/**
 * What an operator meets day to day (issue 16): the greeting, bounces with no smart host, the AUTH
 * lockout bans from the CLI, `quarantine show` of a real message, a release done twice, and the CLI
 * pointed at the wrong service's admin listener. Real processes over the real broker and Redis.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { writeUsersFile } from '../support/users.js';
import { Topics, encodeMail, newMessageId, verdict } from '@portcullis/contract';
import { MailboxSink } from '../support/sink.js';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { makeCertificate } from '../support/certs.js';
import { RawSmtp } from '../support/raw-smtp.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { KAFKA_BROKERS, REDIS_URL } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { runCli } from '../support/cli-run.js';

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

const cli = (...args: string[]) => runCli(args);

describe('operations: greeting, no smart host, bans, quarantine, wrong service', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-ops-admin-'));
  const token = randomBytes(16).toString('hex');
  const tokenFile = join(dir, 'token');
  const tag = randomBytes(4).toString('hex');
  const maildir = join(dir, 'mail');
  // The mailbox server knows no gone-<tag>@: a permanent failure, so a bounce to the (outside) sender.
  const sink = new MailboxSink({ script: (s) => (s.phase === 'rcpt' && s.address?.startsWith('gone-') ? { code: 550, text: '5.1.1 no such user' } : undefined) });
  let embedded: GatewayProcess;
  let relay: GatewayProcess;
  const ports = { mx: 0, subs: 0, admin: 0, relayAdmin: 0 };

  before(async () => {
    writeFileSync(tokenFile, token, { mode: 0o600 });
    await sink.start();
    const cert = makeCertificate(dir, ['mx.test.portcullis']);
    const users = join(dir, 'users.yaml');
    await writeUsersFile(users, [{ username: 'dave@example.test', password: 'right' }]);
    Object.assign(ports, { mx: await freePort(), subs: await freePort(), admin: await freePort(), relayAdmin: await freePort() });
    // Embedded, as `make run` starts it, without relay.outbound: bounces to outside senders land in the Maildir.
    embedded = new GatewayProcess('ops-embedded', {
      services: ['all'],
      smtpPort: ports.mx,
      submissionsPort: ports.subs,
      httpPort: await freePort(),
      adminPort: ports.admin,
      adminTokenFile: tokenFile,
      downstreamPort: sink.port,
      distributed: false,
      maildir,
      verdictTimeoutMs: 3000,
      redis: { url: REDIS_URL, keyPrefix: `ops-${tag}:` },
      extra: `tls:\n  certificates: [{ certFile: ${cert.certFile}, keyFile: ${cert.keyFile} }]\nauth:\n  source: file\n  file: { path: ${users} }\n  maxFailuresPerConnection: 10\nlockout: { maxFailures: 2, banSeconds: 300 }\n`,
    });
    // The relay on its own over Kafka: its admin API serves the quarantine and the trace, not the bans.
    relay = new GatewayProcess('ops-relay', {
      services: ['relay'],
      smtpPort: await freePort(),
      httpPort: await freePort(),
      adminPort: ports.relayAdmin,
      adminTokenFile: tokenFile,
      downstreamPort: sink.port,
      distributed: true,
      maildir,
    });
    await Promise.all([embedded.start(), relay.start()]);
  });
  after(async () => {
    await Promise.all([embedded?.stop(), relay?.stop()]);
    await sink.stop().catch(() => undefined);
  });

  it('greets with ESMTP once', async () => {
    const { client, greeting } = await RawSmtp.open(ports.mx);
    client.close();
    assert.match(greeting, /^220 mx\.test\.portcullis ESMTP Portcullis\b/);
    assert.equal(greeting.match(/ESMTP/g)?.length, 1, greeting);
  });

  it('without a smart host: warns at start naming relay.outbound, and counts the bounce it writes to the Maildir', async () => {
    assert.match(
      readFileSync(embedded.logPath, 'utf8'),
      /"msg":"relay\.outbound\.smarthost is not set: bounces and other mail for outside addresses are written to the local Maildir/,
    );
    const sent = await sendRaw(ports.mx, makeMessage(`gone ${tag}`), { from: 'someone@sender.test', to: [`gone-${tag}@example.test`] });
    assert.equal(sent.code, 250, sent.response);
    const box = join(maildir, 'someone@sender.test', 'new');
    const dsn = await waitFor(
      'the bounce in the Maildir',
      () =>
        (existsSync(box) &&
          readdirSync(box)
            .map((f) => readFileSync(join(box, f), 'utf8'))
            .find((m) => m.includes(`gone-${tag}@example.test`))) ||
        undefined,
      60_000,
      200,
    );
    assert.match(dsn, /Action: failed/);
    const metrics = await embedded.metrics();
    assert.match(metrics, /^portcullis_relay_no_smarthost_total\{kind="bounce"\} 1$/m);
    assert.match(readFileSync(embedded.logPath, 'utf8'), /no relay\.outbound\.smarthost: mail for an outside address written to the local Maildir/);
  });

  it('portcullis bans list and lift', async () => {
    for (let i = 0; i < 2; i++) {
      const { client } = await RawSmtp.openTls(ports.subs);
      await client.send('EHLO guesser.test\r\n');
      await client.send(`AUTH PLAIN ${plain('dave@example.test', `guess-${i}`)}\r\n`);
      client.close();
    }
    const conf = ['--config', embedded.configPath];
    const list = await cli('bans', 'list', ...conf);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^127\.0\.0\.1 {2}ip-failures {2}offence 1 {2}until \S+ \(\d+ s left\) {2}ban \S+$/m);
    const lift = await cli('bans', 'lift', '127.0.0.1', ...conf);
    assert.deepEqual([lift.code, lift.stdout.trim()], [0, 'lifted the ban on 127.0.0.1']);
    assert.equal((await cli('bans', 'list', ...conf)).stdout.trim(), '(no bans)');
    const again = await cli('bans', 'lift', '127.0.0.1', ...conf);
    assert.deepEqual([again.code, again.stdout.trim()], [1, 'no ban on 127.0.0.1']);
    const { client, greeting } = await RawSmtp.open(ports.mx);
    client.close();
    assert.match(greeting, /^220 /, 'lifted: served again');
  });

  it('the CLI pointed at the wrong service names the one that serves the area', async () => {
    const r = await cli('bans', 'list', '--url', `http://127.0.0.1:${ports.relayAdmin}`, '--token-file', tokenFile);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), "bans are served by the edge: point --url at the edge's admin listener (the one at --url serves: dead-letter, trace, quarantine)");
    assert.doesNotMatch(r.stdout + r.stderr, /no admin area/);
  });

  it('quarantine show: header names as written, one line each; a second release is refused and audited once', async () => {
    const id = newMessageId();
    const raw = Buffer.from(
      `Received: from spam.test (spam.test [203.0.113.9])\r\n\tby mx.test.portcullis; Thu, 3 Dec 2026 10:00:00 +0000\r\nFrom: bad@spam.test\r\nTo: q@example.test\r\nSubject: held ${tag}\r\nX-Spam-Flag: YES \u202Egnp.exe\r\nMessage-ID: <held${tag}@spam.test>\r\n\r\nbody\r\n`,
    );
    const producer = new Kafka({ clientId: 'ops-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: Topics.decided,
      messages: [
        {
          key: id,
          value: encodeMail({
            meta: {
              v: 1,
              id,
              size: raw.length,
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
            raw,
          }),
        },
      ],
    });
    await producer.disconnect();
    const conf = ['--config', relay.configPath];
    await waitFor('the message in the quarantine', async () => (await cli('quarantine', 'list', '--rcpt', `q-${tag}@example.test`, ...conf)).stdout.includes(id), 60_000, 500);
    const show = await cli('quarantine', 'show', id, ...conf);
    assert.equal(show.code, 0, show.stderr);
    const head = show.stdout.split('\n\n')[0]!.split('\n');
    assert.deepEqual(head, [
      'Received: from spam.test (spam.test [203.0.113.9]) by mx.test.portcullis; Thu, 3 Dec 2026 10:00:00 +0000',
      'From: bad@spam.test',
      'To: q@example.test',
      `Subject: held ${tag}`,
      'X-Spam-Flag: YES \\u202Egnp.exe',
      `Message-ID: <held${tag}@spam.test>`,
    ]);
    assert.doesNotMatch(show.stdout, /\\x0d/);

    const first = await cli('quarantine', 'release', id, '--by', 'alice', ...conf);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await waitFor('the released message delivered', () => sink.to(`q-${tag}@example.test`)[0], 60_000);
    const second = await cli('quarantine', 'release', id, '--by', 'bob', ...conf);
    assert.equal(second.code, 1);
    assert.match(second.stdout, /"error": "already released by alice at \d{4}-\d\d-\d\dT/);
    const audit = JSON.parse((await cli('quarantine', 'audit', '--json', ...conf)).stdout) as { audit: { id: string; action: string; by: string }[] };
    assert.deepEqual(
      audit.audit.filter((a) => a.id === id).map((a) => `${a.action} by ${a.by}`),
      ['release by alice'],
    );
    // Nothing was published again: one copy reaches the mailbox server.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(sink.to(`q-${tag}@example.test`).length, 1);
  });
});
