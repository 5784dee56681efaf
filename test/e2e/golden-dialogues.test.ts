/**
 * Golden dialogues: for every reply in the catalogue (libs/smtp-replies) that a client can provoke,
 * a real session against a real gateway (embedded mode, the real test DNS server; the store
 * failure over the real Kafka broker) and the exact line the client reads. The expected lines are
 * written out here, never computed from the catalogue: this file is what the wire must say.
 * Replies that no client can provoke are listed with the reason, and the last tests check that
 * every catalogue entry is one or the other and that the checks it names exist in the edge.
 * One file, longer than our usual files, on purpose: the coverage check must see every dialogue,
 * and a reader looking for the dialogue of a reply finds it by its id here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { catalogue } from '@portcullis/smtp-replies';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeCertificate } from '../support/certs.js';
import { writeUsersFile } from '../support/users.js';
import { RawSmtp } from '../support/raw-smtp.js';
import { OwnRedis } from '../support/redis-server.js';
import { kafkaCtl } from '../support/kafka.js';
import { converse, openFrom, openTlsFrom, plainAuth } from '../support/dialogue.js';
import { DNS_SERVER, ROOT } from '../support/paths.js';
import { sleep, waitFor } from '../support/wait.js';

/** Catalogue entries no client can provoke, and why. */
const NOT_OVER_SMTP: Record<string, string> = {
  'connect.shutting-down':
    'stop() closes the listening sockets before anything else, so a connection reaches onConnect after the edge started stopping only in the same instant: no dialogue can aim at that window',
  'login.not-available':
    'needs a submission listener without a credential source, which the configuration refuses (auth.source none with smtp.submission enabled); the MX listener never offers AUTH',
  'rcpt.verification-failed':
    'sent only when the flow or verification check throws; both catch their own failures (a failing state store lets the recipient through, a failing downstream is rcpt.cannot-verify)',
  'data.local-problem': 'sent when the DATA stream fails (the client is gone: nobody reads the reply) or when the end of DATA throws unexpectedly; neither is in reach of a client',
};

const covered = new Set<string>();

/** A golden dialogue for one catalogue entry. */
function golden(id: string, what: string, fn: () => Promise<void>): void {
  covered.add(id);
  it(`${id}: ${what}`, fn);
}

const ULID = /\b([0-9A-HJKMNP-TV-Z]{26})\b/;
/** The message id a reply quotes: the one part of a DATA reply that differs from run to run. */
const idIn = (reply: string): string => ULID.exec(reply)?.[1] ?? '(no message id)';

function message(from: string, opts: { subject?: string; headers?: string[]; body?: string[] } = {}): string {
  const head = [
    `From: ${from}`,
    'To: <postmaster@example.test>',
    `Subject: ${opts.subject ?? 'golden'}`,
    'Date: Thu, 03 Dec 2026 20:00:00 +0000',
    `Message-ID: <${randomBytes(8).toString('hex')}@sender.test>`,
    ...(opts.headers ?? []),
  ];
  return `${head.join('\r\n')}\r\n\r\n${(opts.body ?? ['Hello.']).join('\r\n')}\r\n`;
}

/** MAIL, RCPT and DATA on an open session, then the message and the final dot; the reply to the dot. */
async function transaction(client: RawSmtp, from: string, to: string, data: string | Buffer, mailArgs = ''): Promise<string> {
  const [mail, rcpt, go] = await converse(client, [`MAIL FROM:<${from}>${mailArgs}`, `RCPT TO:<${to}>`, 'DATA']);
  assert.match(mail!, /^250 /);
  assert.match(rcpt!, /^250 /);
  assert.match(go!, /^354 /);
  return client.send(Buffer.concat([Buffer.from(data), Buffer.from('.\r\n')]));
}

/** A session that waits for the server to end it: resolves with the reply that came, without writing. */
async function waitForReply(client: RawSmtp, timeoutMs: number): Promise<string> {
  return client.reply(timeoutMs);
}

describe('golden dialogues', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-golden-'));
  const cert = makeCertificate(dir, ['mx.test.portcullis']);
  const tls = `tls:\n  certificates: [{ certFile: ${cert.certFile}, keyFile: ${cert.keyFile} }]\n`;

  describe('the main gateway: connect, login, mail, rcpt, data, verdicts', () => {
    const sink = new MailboxSink({
      known: new Set(['postmaster@example.test', 'known@verify.test']),
      script: (step) => (step.phase === 'rcpt' && step.address === 'busy@verify.test' ? { code: 451, text: '4.3.0 Try again later' } : undefined),
    });
    let gw: GatewayProcess;
    let mx = 0;
    let submission = 0;
    let submissions = 0;

    before(async () => {
      await sink.start();
      const users = join(dir, 'users.yaml');
      await writeUsersFile(users, [{ username: 'dave@example.test', password: 'right' }]);
      [mx, submission, submissions] = [await freePort(), await freePort(), await freePort()];
      gw = new GatewayProcess('golden-main', {
        services: ['all'],
        smtpPort: mx,
        submissionPort: submission,
        submissionsPort: submissions,
        httpPort: await freePort(),
        downstreamPort: sink.port,
        distributed: false,
        verdictTimeoutMs: 8000,
        domainsExtra: `  - name: verify.test\n    downstream: { host: 127.0.0.1, port: ${sink.port}, tls: none }\n    verifyRecipients: { enabled: true }\n`,
        smtpExtra: `  maxMessageBytes: 8192
  maxBufferedBytes: 6144
  maxRecipients: 3
  requireTls: { senderDomains: [tls-only.test] }
  limits: { maxErrors: 0, tarpitAfterErrors: 0, maxHeaderBytes: 1024 }
`,
        extra: `${tls}auth:
  source: file
  file: { path: ${users} }
  maxFailuresPerConnection: 2
lockout: { maxFailures: 3, banSeconds: 300 }
flow:
  deny: [127.0.0.9]
dns: { servers: ["${DNS_SERVER}"], timeoutMs: 300, attempts: 1, messageDeadlineMs: 3000 }
reputation:
  connect:
    lists:
      - zone: dnsbl.portcullis.test
        weight: 10
        codes: [{ answer: 127.0.0.2, meaning: SBL }]
    refuseAt: 10
  block:
    senders: [blocked@sender.example]
`,
      });
      await gw.start();
    });

    after(async () => {
      await gw.stop('SIGTERM');
      await sink.stop();
    });

    /** EHLO on the MX port from 127.0.0.1, as a host the test SPF zone knows. */
    async function mxSession(from = '127.0.0.1'): Promise<RawSmtp> {
      const { client, greeting } = await openFrom(mx, from);
      assert.match(greeting, /^220 /);
      assert.match(await client.send('EHLO mx.spf.test\r\n'), /^250/);
      return client;
    }

    /** An authenticated session on port 465 as dave@example.test. */
    async function submissionSession(): Promise<RawSmtp> {
      const { client, greeting } = await openTlsFrom(submissions);
      assert.match(greeting, /^220 /);
      assert.match(await client.send('EHLO laptop.example.test\r\n'), /^250/);
      assert.match(await client.send(`AUTH PLAIN ${plainAuth('dave@example.test', 'right')}\r\n`), /^235 /);
      return client;
    }

    golden('connect.early-talker', 'a client that talks before the greeting', async () => {
      const socket = connect({ port: mx, host: '127.0.0.1' });
      const client = new RawSmtp(socket);
      socket.write('EHLO hasty.test\r\n');
      assert.equal(await client.reply(), '421 4.7.0 mx.test.portcullis You talk too soon');
      client.close();
    });

    golden('connect.dnsbl', 'a client listed by the DNSBL (127.0.0.2, the RFC 5782 test point)', async () => {
      const { client, greeting } = await openFrom(mx, '127.0.0.2');
      assert.equal(greeting, '554 5.7.1 Service unavailable; client [127.0.0.2] is listed by dnsbl.portcullis.test (SBL)');
      client.close();
    });

    golden('connect.denied', 'a client on flow.deny', async () => {
      const { client, greeting } = await openFrom(mx, '127.0.0.9');
      assert.equal(greeting, '554 5.7.1 Access denied for [127.0.0.9]');
      client.close();
    });

    golden('login.tls-required', 'AUTH on port 587 before STARTTLS', async () => {
      const { client } = await openFrom(submission);
      const [, auth] = await converse(client, ['EHLO laptop.example.test', `AUTH PLAIN ${plainAuth('dave@example.test', 'right')}`]);
      assert.equal(auth, '530 5.7.0 Must issue a STARTTLS command first');
      client.close();
    });

    golden('login.invalid-credentials', 'a wrong password', async () => {
      const { client } = await openTlsFrom(submissions, '127.0.0.32');
      const [, auth] = await converse(client, ['EHLO laptop.example.test', `AUTH PLAIN ${plainAuth('dave@example.test', 'wrong')}`]);
      assert.equal(auth, '535 5.7.8 Authentication credentials invalid');
      client.close();
    });

    golden('login.too-many-failures', 'the second wrong password in one connection (auth.maxFailuresPerConnection 2)', async () => {
      const { client } = await openTlsFrom(submissions, '127.0.0.31');
      const [, first, second] = await converse(client, [
        'EHLO laptop.example.test',
        `AUTH PLAIN ${plainAuth('dave@example.test', 'guess-1')}`,
        `AUTH PLAIN ${plainAuth('dave@example.test', 'guess-2')}`,
      ]);
      assert.equal(first, '535 5.7.8 Authentication credentials invalid');
      assert.equal(second, '421 4.7.0 Too many authentication failures, closing connection');
      client.close();
    });

    golden('login.locked-out', 'the failure that reaches lockout.maxFailures, then the banned client at connect', async () => {
      const { client } = await openTlsFrom(submissions, '127.0.0.31');
      const [, third] = await converse(client, ['EHLO laptop.example.test', `AUTH PLAIN ${plainAuth('dave@example.test', 'guess-3')}`]);
      assert.equal(third, '421 4.7.0 Too many failed authentication attempts from [127.0.0.31]; blocked, try again in 5 minutes');
      client.close();
      const again = await openFrom(mx, '127.0.0.31');
      assert.equal(again.greeting, '421 4.7.0 Too many failed authentication attempts from [127.0.0.31]; blocked, try again in 5 minutes');
      again.client.close();
    });

    golden('mail.tls-required', 'MAIL from a domain on smtp.requireTls without STARTTLS', async () => {
      const client = await mxSession();
      assert.equal(await client.send('MAIL FROM:<alice@tls-only.test>\r\n'), '530 5.7.0 Must issue a STARTTLS command first (TLS is required for this sender)');
      client.close();
    });

    golden('mail.size-declared', 'MAIL with a SIZE over smtp.maxMessageBytes', async () => {
      const client = await mxSession();
      assert.equal(await client.send('MAIL FROM:<sender@sender.test> SIZE=9000\r\n'), '552 5.3.4 Declared message size 9000 exceeds the fixed maximum message size of 8192 octets');
      client.close();
    });

    golden('mail.sender-not-owned', 'an authenticated user sending as someone else', async () => {
      const client = await submissionSession();
      assert.equal(await client.send('MAIL FROM:<ceo@example.test>\r\n'), '553 5.7.1 Sender address <ceo@example.test> is not owned by the authenticated user');
      client.close();
    });

    golden('rcpt.relay-denied', 'an unauthenticated client naming another domain', async () => {
      const client = await mxSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<sender@sender.test>', 'RCPT TO:<x@other.test>']);
      assert.equal(rcpt, '550 5.7.1 Relay access denied for <x@other.test>');
      client.close();
    });

    golden('rcpt.bad-syntax', 'a percent-hack route inside one of our domains', async () => {
      const client = await mxSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<sender@sender.test>', 'RCPT TO:<user%other.test@example.test>']);
      assert.equal(rcpt, '553 5.1.3 Recipient address <user%other.test@example.test> is not allowed here (routing characters or syntax)');
      client.close();
    });

    golden('rcpt.too-long', 'a local part of 70 octets', async () => {
      const client = await mxSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<sender@sender.test>', `RCPT TO:<${'a'.repeat(70)}@example.test>`]);
      assert.equal(rcpt, '501 5.1.3 Recipient address too long: local-part of 70 octets, at most 64 (RFC 5321 4.5.3.1)');
      client.close();
    });

    golden('rcpt.no-outbound-route', 'an authenticated user writing outside without relay.outbound', async () => {
      const client = await submissionSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<dave@example.test>', 'RCPT TO:<friend@other.test>']);
      assert.equal(rcpt, '550 5.7.1 No route for outgoing mail to <friend@other.test> (relay.outbound is not configured)');
      client.close();
    });

    golden('rcpt.too-many', 'a fourth recipient (smtp.maxRecipients 3)', async () => {
      const client = await mxSession();
      const replies = await converse(client, [
        'MAIL FROM:<sender@sender.test>',
        'RCPT TO:<postmaster@example.test>',
        'RCPT TO:<abuse@example.test>',
        'RCPT TO:<hostmaster@example.test>',
        'RCPT TO:<webmaster@example.test>',
      ]);
      assert.equal(replies[4], '452 4.5.3 Too many recipients, at most 3 per message');
      client.close();
    });

    golden('rcpt.unknown', 'a recipient the mailbox server does not know (verifyRecipients)', async () => {
      const client = await mxSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<sender@sender.test>', 'RCPT TO:<nobody@verify.test>']);
      assert.equal(rcpt, '550 5.1.1 Recipient <nobody@verify.test> does not exist here');
      client.close();
    });

    golden('rcpt.cannot-verify', 'the mailbox server answers the probe with 451', async () => {
      const client = await mxSession();
      const [, rcpt] = await converse(client, ['MAIL FROM:<sender@sender.test>', 'RCPT TO:<busy@verify.test>']);
      assert.equal(rcpt, '451 4.4.3 Cannot verify <busy@verify.test> right now, try again later');
      client.close();
    });

    golden('data.queued', 'a message that passes', async () => {
      const client = await mxSession();
      const reply = await transaction(client, 'bounce@pass.spf.test', 'postmaster@example.test', message('<alice@pass.spf.test>'));
      assert.equal(reply, `250 2.6.0 Ok: queued as ${idIn(reply)}`);
      client.close();
    });

    golden('data.too-big', 'a message over smtp.maxMessageBytes', async () => {
      const client = await mxSession();
      const body = Array.from({ length: 130 }, () => 'x'.repeat(76));
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>', { body }));
      assert.equal(reply, '552 5.3.4 Message exceeds the size limit of 8192 octets');
      client.close();
    });

    golden('data.over-declared-size', 'a message larger than the SIZE its client declared', async () => {
      const client = await mxSession();
      const data = message('<sender@sender.test>', { body: ['x'.repeat(300)] });
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', data, ' SIZE=100');
      assert.equal(reply, `552 5.3.4 Message of ${Buffer.byteLength(data)} octets exceeds its declared SIZE=100`);
      client.close();
    });

    golden('data.header-too-big', 'a header section over smtp.limits.maxHeaderBytes (1024)', async () => {
      const client = await mxSession();
      const headers = Array.from({ length: 16 }, (_, i) => `X-Padding-${i}: ${'p'.repeat(80)}`);
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>', { headers }));
      assert.equal(reply, '552 5.3.4 Message header section exceeds 1024 octets');
      client.close();
    });

    golden('data.line-too-long', 'a body line of 1200 octets', async () => {
      const client = await mxSession();
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>', { body: ['y'.repeat(1200)] }));
      assert.equal(reply, '550 5.6.0 Message has a line longer than 998 octets (RFC 5322 2.1.1)');
      client.close();
    });

    golden('data.bare-line-ending', 'a bare LF in the message (smtp.bareLineEndings reject)', async () => {
      const client = await mxSession();
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>', { body: ['one\ntwo'] }));
      assert.equal(reply, '550 5.6.0 Message contains a bare CR or LF or a NUL; lines must end with CRLF (RFC 5322 2.3)');
      client.close();
    });

    golden('data.memory-full', 'a message over smtp.maxBufferedBytes (6144) but under the size limit', async () => {
      const client = await mxSession();
      const body = Array.from({ length: 90 }, () => 'z'.repeat(76));
      const reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>', { body }));
      assert.equal(reply, '452 4.3.1 Insufficient system storage, try again later');
      client.close();
    });

    golden('data.from-not-owned', "submission: a From header naming someone else's address", async () => {
      const client = await submissionSession();
      const reply = await transaction(client, 'dave@example.test', 'postmaster@example.test', message('<ceo@example.test>'));
      assert.equal(reply, '553 5.7.1 From address <ceo@example.test> is not owned by the authenticated user');
      client.close();
    });

    golden('data.from-missing', 'submission: no From header', async () => {
      const client = await submissionSession();
      const data = 'To: <postmaster@example.test>\r\nSubject: no from\r\n\r\nHello.\r\n';
      assert.equal(await transaction(client, 'dave@example.test', 'postmaster@example.test', data), '553 5.7.1 From header is missing');
      client.close();
    });

    golden('data.from-several', 'submission: two From headers', async () => {
      const client = await submissionSession();
      const reply = await transaction(client, 'dave@example.test', 'postmaster@example.test', message('<dave@example.test>', { headers: ['From: <dave@example.test>'] }));
      assert.equal(reply, '553 5.7.1 From header is given more than once');
      client.close();
    });

    golden('data.from-malformed', 'submission: a From header that is not an address', async () => {
      const client = await submissionSession();
      const reply = await transaction(client, 'dave@example.test', 'postmaster@example.test', message('Dave <dave@@example.test'));
      assert.equal(reply, '553 5.7.1 From header is malformed');
      client.close();
    });

    golden('verdict.reject', 'a sender on reputation.block.senders', async () => {
      const client = await mxSession();
      const reply = await transaction(client, 'blocked@sender.example', 'postmaster@example.test', message('<blocked@sender.example>'));
      assert.equal(reply, `550 5.7.1 Rejected: Refused by local policy: sender <blocked@sender.example> is blocked (${idIn(reply)})`);
      client.close();
    });

    golden('verdict.tempfail', 'an SPF look-up that times out (temp.spf.test)', async () => {
      const client = await mxSession();
      const reply = await transaction(client, 'b@temp.spf.test', 'postmaster@example.test', message('<a@temp.spf.test>'));
      assert.equal(
        reply,
        `451 4.4.3 Try again later: Temporary authentication failure, try again later: spf=temperror for temp.spf.test (mx.test.portcullis: error in processing during lookup of b@temp.spf.test: DNS timeout) (${idIn(reply)})`,
      );
      client.close();
    });

    golden('session.unrecognized-commands', 'ten commands smtp-server does not know', async () => {
      const client = await mxSession();
      let reply = '';
      for (let i = 0; i < 12 && !reply.startsWith('421'); i++) reply = await client.send('XYZZY\r\n');
      assert.equal(reply, '421 4.7.0 Error: too many unrecognized commands');
      client.close();
    });
  });

  describe('a small gateway: per-session limits and timers, smtp.maxClients', () => {
    let gw: GatewayProcess;
    let mx = 0;

    before(async () => {
      mx = await freePort();
      gw = new GatewayProcess('golden-tiny', {
        services: ['all'],
        smtpPort: mx,
        httpPort: await freePort(),
        distributed: false,
        smtpExtra: `  maxClients: 2
  limits: { maxCommands: 6, maxErrors: 3, maxMessages: 1, sessionTimeoutMs: 2500, dataTimeoutMs: 1000, dataMinBytesPerSecond: 0, tarpitAfterErrors: 0 }
  commandTimeouts: { greetingMs: 1000, mailMs: 10000 }
`,
      });
      await gw.start();
    });

    after(async () => {
      await gw.stop('SIGTERM');
    });

    /** Opens a session and waits for the gateway to have seen the previous ones close (maxClients 2). */
    async function open(): Promise<RawSmtp> {
      const { client, greeting } = await waitFor(
        'a free client slot',
        async () => {
          const o = await openFrom(mx);
          if (o.greeting.startsWith('220')) return o;
          o.client.close();
          await sleep(200);
          return null;
        },
        10_000,
        50,
      );
      assert.match(greeting, /^220 /);
      return client;
    }

    golden('session.command-timeout', 'no first command within smtp.commandTimeouts.greetingMs', async () => {
      const client = await open();
      assert.equal(await waitForReply(client, 5000), '421 4.4.2 Timeout waiting for the first command (1 s), closing connection');
      client.close();
    });

    golden('session.too-many-commands', 'a seventh command (smtp.limits.maxCommands 6)', async () => {
      const client = await open();
      const replies = await converse(client, ['EHLO chatty.test', 'NOOP', 'NOOP', 'NOOP', 'NOOP', 'NOOP', 'NOOP']);
      assert.equal(replies[6], '421 4.7.0 Too many commands in one connection, closing');
      client.close();
    });

    golden('session.too-many-errors', 'a command after three errors (smtp.limits.maxErrors 3)', async () => {
      const client = await open();
      const replies = await converse(client, ['EHLO clumsy.test', 'RCPT TO:<a@example.test>', 'RCPT TO:<a@example.test>', 'RCPT TO:<a@example.test>', 'NOOP']);
      assert.equal(replies[4], '421 4.7.0 Too many errors, closing connection');
      client.close();
    });

    golden('mail.too-many-messages', 'a second MAIL in one connection (smtp.limits.maxMessages 1)', async () => {
      const client = await open();
      await client.send('EHLO busy.test\r\n');
      assert.match(await transaction(client, 'sender@sender.test', 'postmaster@example.test', 'Subject: one\r\n\r\nbare\nLF\r\n'), /^550 /);
      assert.equal(await client.send('MAIL FROM:<sender@sender.test>\r\n'), '421 4.7.0 Too many messages in one connection (at most 1), reconnect to send more');
      client.close();
    });

    golden('session.time-limit', 'a session older than smtp.limits.sessionTimeoutMs', async () => {
      const client = await open();
      await client.send('EHLO slow.test\r\n');
      assert.equal(await waitForReply(client, 6000), '421 4.4.2 Connection time limit reached, closing');
      client.close();
    });

    golden('data.transfer-time', 'a message still arriving after smtp.limits.dataTimeoutMs', async () => {
      const client = await open();
      await converse(client, ['EHLO dripping.test', 'MAIL FROM:<sender@sender.test>', 'RCPT TO:<postmaster@example.test>', 'DATA']);
      client.socket.write('Subject: slow\r\n');
      assert.equal(await waitForReply(client, 5000), '421 4.4.2 Message transfer time limit reached, closing');
      client.close();
    });

    golden('connect.too-many-clients', 'a third client while two are in a transaction (smtp.maxClients 2)', async () => {
      // Each in a transaction before the next connects: an idle one would be reclaimed for it.
      const busy: RawSmtp[] = [];
      for (let i = 0; i < 2; i++) {
        const client = await open();
        await converse(client, ['EHLO busy.test', 'MAIL FROM:<sender@sender.test>']);
        busy.push(client);
      }
      const third = await openFrom(mx);
      assert.equal(third.greeting, '421 4.7.0 mx.test.portcullis Too many connected clients, try again in a moment');
      for (const c of [...busy, third.client]) c.close();
    });
  });

  describe('flow control and a credential source that cannot answer', () => {
    let gw: GatewayProcess;
    let mx = 0;
    let submissions = 0;

    before(async () => {
      [mx, submissions] = [await freePort(), await freePort()];
      const deadPort = await freePort(); // nothing listens: the mailbox server's AUTH cannot be asked
      gw = new GatewayProcess('golden-flow', {
        services: ['all'],
        smtpPort: mx,
        submissionsPort: submissions,
        httpPort: await freePort(),
        distributed: false,
        extra: `${tls}auth:
  source: passthrough
  passthrough: { host: 127.0.0.1, port: ${deadPort}, tls: implicit, timeoutMs: 1000 }
flow:
  perIp: { connections: 2, connectionsPerMinute: 3, messagesPerMinute: 2, recipientsPerMinute: 2 }
  perNetwork: { connections: 0, connectionsPerMinute: 0, messagesPerMinute: 0, recipientsPerMinute: 0, ipv4PrefixLength: 24, ipv6PrefixLength: 64 }
`,
      });
      await gw.start();
    });

    after(async () => {
      await gw.stop('SIGTERM');
    });

    golden('connect.rate', 'a fourth connection in a minute (flow.perIp.connectionsPerMinute 3)', async () => {
      for (let i = 0; i < 3; i++) {
        const { client, greeting } = await openFrom(mx, '127.0.0.21');
        assert.match(greeting, /^220 /);
        await client.send('QUIT\r\n');
        client.close();
      }
      const { client, greeting } = await openFrom(mx, '127.0.0.21');
      assert.equal(greeting, '421 4.7.0 Too many connections from [127.0.0.21] (limit 3 per minute), try again later');
      client.close();
    });

    golden('connect.concurrent', 'a third connection while two are in a transaction (flow.perIp.connections 2)', async () => {
      const busy: RawSmtp[] = [];
      for (let i = 0; i < 2; i++) {
        const { client } = await openFrom(mx, '127.0.0.22');
        await converse(client, ['EHLO busy.test', 'MAIL FROM:<sender@sender.test>']);
        busy.push(client);
      }
      const third = await openFrom(mx, '127.0.0.22');
      assert.equal(third.greeting, '421 4.7.0 Too many concurrent connections from [127.0.0.22] (limit 2), try again later');
      for (const c of [...busy, third.client]) c.close();
    });

    golden('session.reclaimed', 'an idle session gives its slot to a newcomer from the same address', async () => {
      const idle: RawSmtp[] = [];
      for (let i = 0; i < 2; i++) {
        const { client } = await openFrom(mx, '127.0.0.25');
        await client.send('EHLO idle.test\r\n');
        idle.push(client);
      }
      const newcomer = await openFrom(mx, '127.0.0.25');
      assert.match(newcomer.greeting, /^220 /);
      assert.equal(await waitForReply(idle[0]!, 5000), '421 4.7.0 Server busy, closing idle connection, try again later');
      for (const c of [...idle, newcomer.client]) c.close();
    });

    golden('mail.rate', 'a third MAIL in a minute (flow.perIp.messagesPerMinute 2)', async () => {
      const { client } = await openFrom(mx, '127.0.0.23');
      const replies = await converse(client, ['EHLO sender.test', 'MAIL FROM:<a@sender.test>', 'RSET', 'MAIL FROM:<a@sender.test>', 'RSET', 'MAIL FROM:<a@sender.test>']);
      assert.equal(replies[5], '450 4.7.1 Too many messages from [127.0.0.23] (limit 2 per minute), try again later');
      client.close();
    });

    golden('rcpt.rate', 'a third recipient in a minute (flow.perIp.recipientsPerMinute 2)', async () => {
      const { client } = await openFrom(mx, '127.0.0.24');
      const replies = await converse(client, ['EHLO sender.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<a@example.test>', 'RCPT TO:<b@example.test>', 'RCPT TO:<c@example.test>']);
      assert.equal(replies[4], '450 4.7.1 Too many recipients from [127.0.0.24] (limit 2 per minute), try again later');
      client.close();
    });

    golden('login.temporary-failure', 'AUTH while the mailbox server (auth.source passthrough) is unreachable', async () => {
      const { client } = await openTlsFrom(submissions, '127.0.0.26');
      const [, auth] = await converse(client, ['EHLO laptop.example.test', `AUTH PLAIN ${plainAuth('dave@example.test', 'right')}`]);
      assert.equal(auth, '454 4.7.0 Temporary authentication failure, try again later');
      client.close();
    });
  });

  describe('behind a load balancer (smtp.mx.proxy), and the last word of a stop', () => {
    let gw: GatewayProcess;
    let mx = 0;

    before(async () => {
      mx = await freePort();
      gw = new GatewayProcess('golden-proxy', {
        services: ['all'],
        smtpPort: mx,
        httpPort: await freePort(),
        distributed: false,
        mxProxy: '{ trustedCidrs: [127.0.0.0/8], required: true, headerTimeoutMs: 3000 }',
        smtpExtra: '  maxClients: 2\n',
      });
      await gw.start();
    });

    after(async () => {
      await gw.stop('SIGTERM', 60_000);
    });

    const raw = async (): Promise<RawSmtp> => {
      const socket = connect({ port: mx, host: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return new RawSmtp(socket);
    };

    golden('connect.proxy-required', 'a trusted peer that sends SMTP instead of a PROXY header', async () => {
      const client = await raw();
      assert.equal(await client.send('EHLO direct.test\r\n'), '421 4.7.0 PROXY protocol header required');
      client.close();
    });

    golden('connect.proxy-invalid', 'a PROXY header that does not parse', async () => {
      const client = await raw();
      assert.equal(await client.send('PROXY TCP4 not-an-address\r\n'), '421 4.7.0 Invalid PROXY protocol header');
      client.close();
    });

    golden('connect.too-many-pending', 'a third connection while two have not sent their header (maxClients 2)', async () => {
      const waiting = [await raw(), await raw()];
      await sleep(200);
      const third = await raw();
      assert.equal(await third.reply(), '421 4.3.2 Too many connections, try again later');
      for (const c of [...waiting, third]) c.close();
      await sleep(300);
    });

    golden('session.shutting-down', 'a session still open when the grace period of a stop ends', async () => {
      const client = await raw();
      assert.match(await client.send('PROXY TCP4 192.0.2.50 127.0.0.1 40000 25\r\n'), /^220 /);
      assert.match(await client.send('EHLO lingering.test\r\n'), /^250/);
      const stopped = gw.stop('SIGTERM', 60_000);
      assert.equal(await waitForReply(client, 45_000), '421 4.3.2 Server shutting down');
      client.close();
      await stopped;
    });
  });

  describe('the durable write over Kafka', () => {
    const redis = new OwnRedis();
    let gw: GatewayProcess;
    let mx = 0;

    before(async () => {
      await redis.start();
      mx = await freePort();
      gw = new GatewayProcess('golden-kafka', {
        services: ['edge'],
        smtpPort: mx,
        httpPort: await freePort(),
        distributed: true,
        storeTimeoutMs: 2000,
        verdictTimeoutMs: 1000,
        redis: { url: redis.url, keyPrefix: `golden-${randomBytes(4).toString('hex')}:` },
      });
      await gw.start();
    });

    after(async () => {
      await gw.stop('SIGTERM');
      await redis.stop();
    });

    golden('data.store-failed', 'the end of DATA while the Kafka broker is down', async () => {
      await kafkaCtl('stop');
      let reply: string;
      try {
        const { client } = await openFrom(mx);
        await client.send('EHLO sender.test\r\n');
        reply = await transaction(client, 'sender@sender.test', 'postmaster@example.test', message('<sender@sender.test>'));
        client.close();
      } finally {
        await kafkaCtl('start');
      }
      assert.equal(reply, `451 4.3.0 Temporary failure storing the message (${idIn(reply)}), try again later`);
    });
  });
});

describe('the catalogue and its dialogues', () => {
  it('every entry has a golden dialogue above or is listed as not provokable over SMTP, never both', () => {
    const ids = catalogue.map((e) => e.id);
    const missing = ids.filter((id) => !covered.has(id) && !(id in NOT_OVER_SMTP));
    assert.deepEqual(missing, [], 'a catalogue entry without a golden dialogue: add one, or list it with the reason');
    assert.deepEqual(
      [...covered].filter((id) => id in NOT_OVER_SMTP),
      [],
    );
    assert.deepEqual(
      [...covered, ...Object.keys(NOT_OVER_SMTP)].filter((id) => !ids.includes(id)),
      [],
      'a dialogue for an id the catalogue does not have',
    );
  });

  it("every check an entry names is a function of the edge's (or the catalogue's own) source", () => {
    const sources = [...tsFiles(join(ROOT, 'services/edge/src')), ...tsFiles(join(ROOT, 'libs/smtp-replies/src'))].map((f) => readFileSync(f, 'utf8'));
    const unknown: string[] = [];
    for (const e of catalogue) {
      for (const check of e.checks) {
        const [owner, name] = check.includes('.') ? (check.split('.') as [string, string]) : [null, check];
        const inFiles = owner ? sources.filter((s) => new RegExp(`\\bclass ${owner}\\b`).test(s)) : sources;
        if (!inFiles.some((s) => defines(s, name))) unknown.push(`${e.id}: ${check}`);
      }
    }
    assert.deepEqual(unknown, [], 'rename the check in the catalogue entry too');
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** A definition of `name`: a function, a method or object-literal method, or a property holding a function. */
function defines(source: string, name: string): boolean {
  const patterns = [
    new RegExp(`\\bfunction\\s+${name}\\b`),
    new RegExp(`^\\s*(?:(?:public|private|protected|static|async|override)\\s+)*${name}\\s*(?:<[^>\\n]*>)?\\([^\\n]*\\)\\s*(?::[^\\n{]*)?\\{\\s*$`, 'm'),
    new RegExp(`\\b${name}\\s*[:=]\\s*(?:async\\s+)?(?:function\\b|\\([^)\\n]*\\)\\s*(?::[^=\\n]*)?=>|\\w+\\s*=>)`),
  ];
  return patterns.some((p) => p.test(source));
}
