/**
 * A relay killed (SIGKILL) in the middle of delivering, then started again:
 * every message arrives exactly once. Records whose offsets were not yet
 * committed are read again after the restart; the per message and recipient
 * de-duplication in Redis keeps them from being delivered a second time.
 * Real Kafka, real Redis, a real SMTP server that answers DATA slowly and
 * unevenly, so records of one window finish apart (and,
 * like a server committing on its reply, keeps nothing whose client is gone).
 * The kill lands while replies are held back, away from the instant of a 250.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MailboxSink } from '../support/sink.js';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';

describe('relay killed mid-delivery and restarted', { timeout: 300_000 }, () => {
  const sink = new MailboxSink({ dataDelayMs: () => 20 + Math.floor(Math.random() * 400) });
  let front: GatewayProcess;
  let relay: GatewayProcess;
  let smtpPort: number;

  before(async () => {
    await sink.start();
    smtpPort = await freePort();
    // Loopback is exempt from flow control: the test sends faster than a client on the Internet may.
    const common = { smtpPort, downstreamPort: sink.port, distributed: true, extra: 'flow:\n  allow: [127.0.0.1/32]\n' };
    relay = new GatewayProcess('relay-crash', { ...common, services: ['relay'], httpPort: await freePort() });
    front = new GatewayProcess('front-crash', { ...common, services: ['edge', 'auth', 'reputation', 'content'], httpPort: await freePort(), verdictTimeoutMs: 2000 });
    await relay.start();
    await front.start();
  });

  after(async () => {
    await Promise.all([front?.stop(), relay?.stop()]);
    await sink.stop();
  });

  it('delivers each message exactly once', async () => {
    const tag = Date.now().toString(36);
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => sendRaw(smtpPort, makeMessage(`crash ${tag} ${batch}-${i}`))));
      for (const r of sent) {
        assert.equal(r.code, 250, r.response);
        ids.push(r.messageId!);
      }
    }
    await waitFor('some delivered', () => ids.filter((id) => sink.find(id).length).length >= 10, 60_000, 20);
    // Killed while messages are in flight (DATA sent, the server's reply held back), and not right
    // after a 250: between the server's 250 and our de-duplication mark lies the one window no SMTP
    // client can close (RFC 1047); a kill there would deliver that message twice, on any MTA.
    sink.holdReplies = true;
    await waitFor('deliveries in flight, none just answered', () => sink.pendingData > 0 && Date.now() - sink.lastReplyAt > 300, 30_000, 10);
    const before = ids.filter((id) => sink.find(id).length).length;
    assert.equal(await relay.stop('SIGKILL'), null, 'killed, not exited');
    const inFlight = sink.pendingData;
    sink.holdReplies = false; // the held replies go to connections that are gone: nothing is kept
    assert.ok(before < ids.length, `the kill came mid-delivery (${before} of ${ids.length} delivered)`);
    await relay.start();
    await waitFor('all delivered after the restart', () => ids.every((id) => sink.find(id).length > 0), 120_000, 200);
    await new Promise((r) => setTimeout(r, 3000)); // time for a duplicate to show up, if there were one
    const copies = ids.map((id) => sink.find(id).length);
    assert.deepEqual(
      copies.filter((n) => n !== 1),
      [],
      `copies per message: ${copies.join(',')}`,
    );
    const skipped = readFileSync(relay.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('already delivered (record read again)')).length;
    console.log(`# ${ids.length} messages, ${before} delivered before the kill, ${inFlight} in flight at the kill, ${skipped} re-read records not delivered twice`);
  });
});
