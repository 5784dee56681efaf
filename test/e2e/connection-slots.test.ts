/**
 * Connection slots under attack, end to end through the embedded gateway (its own process, as an
 * operator runs it): 1,000 hostile sessions from 1,000 loopback addresses in 100 /24 networks
 * connect and idle or drip one byte at a time, five times maxClients, while an honest sender
 * keeps connecting and delivering. Without command timeouts and reclaiming, the first 200 of
 * them would hold every slot and the sender would get 421 until they gave up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { RawSmtp } from '../support/raw-smtp.js';
import { fileLimits, startSwarm, type SessionOutcome } from '../support/hostile-swarm.js';
import { sleep, waitFor } from '../support/wait.js';
import { metricSum } from '../support/metrics.js';

const MAX_CLIENTS = 200;
const PRE_MAIL_MS = 3000;
const STRESSED_MS = 1500;
const HOSTILE = 1000;

/** One honest transaction; returns every reply, the greeting first. */
async function deliver(port: number, marker: string): Promise<string[]> {
  const { client, greeting } = await RawSmtp.open(port);
  const replies = [greeting];
  try {
    if (!greeting.startsWith('220')) return replies;
    for (const line of ['EHLO honest.example', 'MAIL FROM:<sender@honest.example>', 'RCPT TO:<postmaster@example.test>', 'DATA']) {
      replies.push(await client.send(`${line}\r\n`));
    }
    replies.push(await client.send(`From: sender@honest.example\r\nTo: postmaster@example.test\r\nSubject: ${marker}\r\n\r\n${marker} body\r\n.\r\n`));
    return replies;
  } finally {
    client.close();
  }
}

describe('connection slots: 1,000 hostile sessions, an honest sender is served', { timeout: 120_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let mx = 0;

  before(async () => {
    await sink.start();
    mx = await freePort();
    gw = new GatewayProcess('slots', {
      services: ['all'],
      smtpPort: mx,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      verdictTimeoutMs: 2000,
      smtpExtra: `  maxClients: ${MAX_CLIENTS}
  commandTimeouts: { greetingMs: ${PRE_MAIL_MS}, mailMs: ${PRE_MAIL_MS}, rcptMs: 60000, stressedPreMailMs: ${STRESSED_MS} }
  reclaim: { atFraction: 0.9, stressAtFraction: 0.8 }
`,
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('cuts a byte-dripper before MAIL at the pre-MAIL timeout, not at the 30-minute session cap', async () => {
    const { client, greeting } = await RawSmtp.open(mx);
    assert.match(greeting, /^220 /);
    assert.match(await client.send('EHLO dripper.example\r\n'), /^250/);
    const started = Date.now();
    let reply = '';
    const reading = client.reply(20_000).then(
      (r) => (reply = r),
      () => undefined,
    );
    const text = 'MAIL FROM:<never@ending.example>';
    for (let i = 0; !reply && !client.socket.destroyed && Date.now() - started < 20_000; i++) {
      client.socket.write(text[i % text.length]!);
      await sleep(300);
    }
    await reading;
    const elapsed = Date.now() - started;
    assert.match(reply, /^421 4\.4\.2 Timeout waiting for a command \(3 s\)/);
    assert.ok(elapsed >= PRE_MAIL_MS - 50 && elapsed < PRE_MAIL_MS * 4, `cut after ${elapsed} ms (mailMs ${PRE_MAIL_MS}); smtp-server's idle timeout would never fire`);
    client.close();
  });

  it('serves an honest sender (220, then 250 end to end) throughout, reclaiming idle sessions instead of refusing', async () => {
    const limits = fileLimits();
    // A transaction held open from before the storm: the longest-waiting session of all, and never reclaimed.
    const held = await RawSmtp.open(mx);
    assert.match(held.greeting, /^220 /);
    for (const line of ['EHLO patient.example', 'MAIL FROM:<sender@patient.example>', 'RCPT TO:<postmaster@example.test>']) {
      assert.match(await held.client.send(`${line}\r\n`), /^250/);
    }

    const addresses: string[] = [];
    for (let net = 0; addresses.length < HOSTILE; net++) for (let host = 1; host <= 10; host++) addresses.push(`127.50.${net}.${host}`);
    const swarm = startSwarm({ port: mx, addresses, modes: ['idle', 'ehlo-idle', 'drip'], wave: 50, dripMs: 500 });

    const honest: { marker: string; replies: string[]; ms: number }[] = [];
    let storming = true;
    const senders = (async () => {
      for (let i = 0; storming || i < 3; i++) {
        const marker = `honest-${i}-${Date.now()}`;
        const t0 = Date.now();
        honest.push({ marker, replies: await deliver(mx, marker), ms: Date.now() - t0 });
        await sleep(200);
      }
    })();
    const openedMs = await swarm.opened;
    storming = false;
    await senders;
    // What is left of the swarm is cut by the pre-MAIL timeout (the stressed one while the
    // listener is still under pressure): nothing hostile outlives it.
    await sleep(PRE_MAIL_MS + 1500);
    const outcomes = await swarm.stop();

    // The held transaction is intact: the message goes through.
    assert.match(await held.client.send('DATA\r\n'), /^354/);
    assert.match(await held.client.send('From: sender@patient.example\r\nTo: postmaster@example.test\r\nSubject: held through the storm\r\n\r\nbody\r\n.\r\n'), /^250 /);
    held.client.close();

    for (const h of honest) {
      assert.match(h.replies[0]!, /^220 /, `${h.marker}: greeted (${h.replies.join(' | ')})`);
      assert.match(h.replies.at(-1)!, /^250 /, `${h.marker}: ${h.replies.join(' | ')}`);
    }
    assert.ok(honest.length >= 4, `${honest.length} honest messages during the storm`);
    await waitFor('the honest messages downstream', () => honest.every((h) => sink.messages.some((m) => m.raw.includes(h.marker))), 20_000);

    const count = (f: (o: SessionOutcome) => boolean) => outcomes.filter(f).length;
    const reclaimed = count((o) => /^421 4\.7\.0 Server busy/.test(o.last));
    const timedOut = count((o) => /^421 4\.4\.2 Timeout waiting for/.test(o.last));
    const refused = count((o) => !o.first.startsWith('220'));
    const other = outcomes.filter((o) => o.first.startsWith('220') && !/^421 4\.(7\.0 Server busy|4\.2 Timeout waiting for)/.test(o.last));
    console.log(
      `hostile: ${outcomes.length} opened in ${openedMs} ms, reclaimed ${reclaimed}, timed out ${timedOut}, refused ${refused}; ` +
        `honest: ${honest.length} messages, slowest ${Math.max(...honest.map((h) => h.ms))} ms; ulimit -n soft ${limits.soft} hard ${limits.hard}`,
    );
    assert.equal(outcomes.length, HOSTILE);
    assert.equal(refused, 0, `no newcomer refused: ${JSON.stringify(outcomes.find((o) => !o.first.startsWith('220')))}`);
    assert.deepEqual(other.slice(0, 3), [], 'every hostile session ended by a reclaim or a command timeout');
    assert.ok(reclaimed >= HOSTILE - MAX_CLIENTS - timedOut, `reclaimed ${reclaimed}`);
    assert.ok(reclaimed > 0 && timedOut > 0);
    const drippersTimedOut = count((o) => o.mode === 'drip' && /^421 4\.4\.2/.test(o.last));
    assert.ok(drippersTimedOut + count((o) => o.mode === 'drip' && /4\.7\.0/.test(o.last)) === count((o) => o.mode === 'drip'));

    // Metrics and logs agree with what the clients saw; the log says nothing of the messages.
    const metrics = await gw.metrics();
    assert.equal(metricSum(metrics, 'portcullis_edge_sessions_reclaimed_total', { listener: 'mx', reason: 'max-clients' }), reclaimed);
    assert.equal(metricSum(metrics, 'portcullis_edge_command_timeouts_total', { listener: 'mx' }), timedOut + 1, 'the storm and the lone dripper');
    assert.ok(metricSum(metrics, 'portcullis_edge_command_timeouts_total', { phase: 'greeting' }) > 0);
    const log = readFileSync(gw.logPath, 'utf8');
    assert.equal(log.split('\n').filter((l) => l.includes('"idle session reclaimed"')).length, reclaimed, 'one log line per reclaim');
    assert.ok(log.includes('pre-MAIL timeouts shortened'), 'stress mode was entered');
    for (const h of honest) assert.equal(log.includes(`${h.marker} body`), false, 'no message data in the log');
  });
});
