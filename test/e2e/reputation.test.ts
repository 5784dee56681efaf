/**
 * Reputation end to end: the gateway as an operator runs it (embedded mode), the real test DNS
 * server with the list zones of test/infra/dns/zones, real SMTP clients on loopback. A client
 * connecting from 127.0.0.2 (loopback, listed by the test DNSBL as RFC 5782's test point) is
 * refused before the greeting; from 127.0.0.1 (never listed) it is served, and what the
 * reputation stage finds in the message is answered in the session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { RawSmtp } from '../support/raw-smtp.js';
import { obfuscatedMessage } from '@portcullis/reputation/testing';
import { waitFor } from '../support/wait.js';

const TEST_DNS = process.env.PORTCULLIS_TEST_DNS || `127.0.0.1:${15353 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET || 0)}`;

const REPUTATION = `dns:
  servers: ["${TEST_DNS}"]
reputation:
  connect:
    lists:
      - zone: dnsbl.portcullis.test
        weight: 10
        codes: [{ answer: 127.0.0.2, meaning: SBL }, { answer: 127.0.0.10/31, weight: 6, meaning: PBL }]
    refuseAt: 10
    tarpitAt: 5
  content:
    lists:
      - zone: uribl.portcullis.test
        weight: 5
        bits: [{ bit: 2, meaning: black }, { bit: 4, weight: 1, meaning: grey }]
    rejectAt: 10
  block:
    senders: [blocked@sender.example]
`;

async function openFrom(port: number, localAddress: string): Promise<{ client: RawSmtp; first: string }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const client = new RawSmtp(socket);
  return { client, first: await client.reply() };
}

async function send(port: number, from: string, message: Buffer): Promise<string> {
  const { client, first } = await openFrom(port, '127.0.0.1');
  assert.match(first, /^220 /);
  try {
    await client.send('EHLO client.test\r\n');
    assert.match(await client.send(`MAIL FROM:<${from}>\r\n`), /^250/);
    assert.match(await client.send('RCPT TO:<postmaster@example.test>\r\n'), /^250/);
    assert.match(await client.send('DATA\r\n'), /^354/);
    return await client.send(Buffer.concat([message, Buffer.from('.\r\n')]));
  } finally {
    client.close();
  }
}

describe('reputation end to end', { timeout: 120_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let port = 0;

  before(async () => {
    await sink.start();
    port = await freePort();
    gw = new GatewayProcess('reputation', { services: ['all'], smtpPort: port, httpPort: await freePort(), downstreamPort: sink.port, distributed: false, extra: REPUTATION });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('refuses a listed client IP before the greeting (554 5.7.1, the list named)', async () => {
    const { client, first } = await openFrom(port, '127.0.0.2');
    assert.match(first, /^554 5\.7\.1 Service unavailable; client \[127\.0\.0\.2\] is listed by dnsbl\.portcullis\.test \(SBL\)/);
    client.close();
  });

  it('rejects in session a message whose links hide listed domains (550 5.7.1)', async () => {
    const reply = await send(port, 'offers@sender.example', obfuscatedMessage());
    assert.match(reply, /^550 5\.7\.1 Rejected: Message refused: reputation score \d+(\.\d+)?, 10 listed domains/);
  });

  it('refuses a block-listed sender in session', async () => {
    const reply = await send(port, 'blocked@sender.example', Buffer.from('From: <blocked@sender.example>\r\nSubject: hi\r\n\r\nhello\r\n'));
    assert.match(reply, /^550 5\.7\.1 Rejected: Refused by local policy: sender <blocked@sender\.example> is blocked/);
  });

  it('delivers a clean message from an unlisted client', async () => {
    const reply = await send(port, 'friend@sender.test', Buffer.from('From: <friend@sender.test>\r\nSubject: hi\r\n\r\nsee http://fine.example/\r\n'));
    assert.match(reply, /^250 /);
    await waitFor('delivered', () => sink.messages.some((m) => m.from === 'friend@sender.test'), 20_000);
    const metrics = await gw.metrics();
    assert.match(metrics, /portcullis_dnsbl_lookups_total\{zone="uribl\.portcullis\.test",outcome="not-listed"\} [1-9]/);
    assert.match(metrics, /portcullis_edge_dnsbl_decisions_total\{decision="refuse"\} 1/);
    // The history recorder learnt the verdicts from the decided topic.
    await waitFor('history learnt', async () => /portcullis_stage_records_total\{stage="reputation-history",outcome="ok"\} [3-9]/.test(await gw.metrics()), 10_000);
  });
});
