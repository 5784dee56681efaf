/**
 * The edge's defences over real SMTP connections, with two edges sharing one
 * real Redis: flow limits, the AUTH lockout, smuggling payloads checked at the
 * downstream, a slow drip, and Redis stopped and started mid-test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeUsersFile } from '../support/users.js';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeCertificate } from '../support/certs.js';
import { RawSmtp, sendRawData } from '../support/raw-smtp.js';
import { OwnRedis } from '../support/redis-server.js';
import { sleep, waitFor } from '../support/wait.js';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/paths.js';

/** The smuggling corpus lives beside the edge's own tests; compiled there, read from there. */
const corpus = (await import(pathToFileURL(join(ROOT, 'services/edge/dist/test/fixtures/smuggling.js')).href)) as {
  SMUGGLING_PAYLOADS: { name: string; segments: Buffer[]; bare: boolean }[];
  HIDDEN_SENDER: string;
};
const { SMUGGLING_PAYLOADS, HIDDEN_SENDER } = corpus;

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
const TOKEN = randomBytes(16).toString('hex');

describe('edge defences, two edges sharing one Redis', { timeout: 300_000 }, () => {
  const redis = new OwnRedis();
  const sink = new MailboxSink();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-defences-'));
  const cert = makeCertificate(dir, ['mx.test']);
  const edges: { gw: GatewayProcess; mx: number; subs: number; http: number; admin: number }[] = [];

  before(async () => {
    await redis.start();
    await sink.start();
    const users = join(dir, 'users.yaml');
    await writeUsersFile(users, [{ username: 'dave@example.test', password: 'right' }]);
    writeFileSync(join(dir, 'token'), TOKEN);
    const prefix = `defences-${randomBytes(4).toString('hex')}:`;
    for (const name of ['edge-a', 'edge-b']) {
      const [mx, subs, http, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const gw = new GatewayProcess(name, {
        services: ['all'],
        smtpPort: mx,
        submissionsPort: subs,
        httpPort: http,
        adminPort: admin,
        adminTokenFile: join(dir, 'token'),
        downstreamPort: sink.port,
        distributed: false,
        verdictTimeoutMs: 2000,
        redis: { url: redis.url, keyPrefix: prefix },
        smtpExtra: '  limits: { dataTimeoutMs: 1500, dataMinBytesPerSecond: 0 }\n',
        extra: `tls:
  certificates: [{ certFile: ${cert.certFile}, keyFile: ${cert.keyFile} }]
login:
  source: file
  file: { path: ${users} }
  maxFailuresPerConnection: 10
flow:
  perIp: { connections: 3, connectionsPerMinute: 1000, messagesPerMinute: 1000, recipientsPerMinute: 1000 }
lockout: { maxFailures: 3, banSeconds: 300 }
`,
      });
      await gw.start();
      edges.push({ gw, mx, subs, http, admin });
    }
  });

  after(async () => {
    await Promise.all(edges.map((e) => e.gw.stop('SIGTERM')));
    await sink.stop();
    await redis.stop();
  });

  it('enforces one connection limit across both edges, and frees the slot on close', async () => {
    const [a, b] = edges as [(typeof edges)[0], (typeof edges)[0]];
    const open = [await RawSmtp.open(a.mx), await RawSmtp.open(a.mx), await RawSmtp.open(b.mx)];
    for (const o of open) {
      assert.match(o.greeting, /^220 /);
      // In a transaction: never reclaimed to make room (see the next test).
      await o.client.send('EHLO busy.test\r\n');
      assert.match(await o.client.send('MAIL FROM:<sender@sender.test>\r\n'), /^250 /);
    }
    const fourth = await RawSmtp.open(b.mx);
    assert.match(fourth.greeting, /^421 4\.7\.0 /, 'the fourth connection from this IP, on the other edge, is refused');
    fourth.client.close();
    open[0]!.client.close();
    await waitFor(
      'a slot freed',
      async () => {
        const again = await RawSmtp.open(b.mx);
        again.client.close();
        return again.greeting.startsWith('220');
      },
      10_000,
      200,
    );
    for (const o of open.slice(1)) o.client.close();
    await sleep(300);
  });

  it('a full connection cap makes an idle session of the same IP on this edge give way to the newcomer', async () => {
    const [a, b] = edges as [(typeof edges)[0], (typeof edges)[0]];
    const idle = [await RawSmtp.open(a.mx), await RawSmtp.open(a.mx), await RawSmtp.open(b.mx)];
    for (const o of idle) assert.match(o.greeting, /^220 /);
    const fourth = await RawSmtp.open(b.mx);
    assert.match(fourth.greeting, /^220 /, 'the newcomer is greeted');
    assert.match(await idle[2]!.client.reply(), /^421 4\.7\.0 Server busy/, "the idle session on the newcomer's edge made way");
    assert.match(await fourth.client.send('EHLO newcomer.test\r\n'), /^250/);
    for (const o of [...idle, fourth]) o.client.close();
    const metrics = await b.gw.metrics();
    assert.match(metrics, /portcullis_edge_sessions_reclaimed_total\{listener="mx",reason="perIp\.connections",phase="greeting"\} 1/);
    await sleep(300);
  });

  it('bans a password-guessing client on every edge, and the operator can list and lift the ban', async () => {
    const [a, b] = edges as [(typeof edges)[0], (typeof edges)[0]];
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { client } = await RawSmtp.openTls(a.subs);
      await client.send('EHLO guesser.test\r\n');
      replies.push(await client.send(`AUTH PLAIN ${plain('dave@example.test', `guess-${i}`)}\r\n`));
      client.close();
    }
    assert.match(replies[0]!, /^535 5\.7\.8 /);
    assert.match(replies[1]!, /^535 5\.7\.8 /);
    assert.match(replies[2]!, /^421 4\.7\.0 /, 'the failure that reaches the limit bans');
    const onB = await RawSmtp.open(b.mx);
    assert.match(onB.greeting, /^421 4\.7\.0 /, 'the ban is seen by the other edge at connect');
    onB.client.close();

    const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${a.admin}/admin/${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal((await fetch(`http://127.0.0.1:${a.admin}/admin/bans`)).status, 401, 'no token, no admin API');
    const bans = (await (await api('bans')).json()) as { bans: { ip: string }[] };
    assert.ok(
      bans.bans.some((x) => x.ip === '127.0.0.1'),
      JSON.stringify(bans),
    );
    assert.equal((await api('bans/127.0.0.1', { method: 'DELETE' })).status, 200);
    const after = await RawSmtp.open(b.mx);
    assert.match(after.greeting, /^220 /, 'lifted everywhere');
    after.client.close();
  });

  it('refuses every smuggling payload (reject mode), and nothing hidden reaches the mailbox server', async () => {
    const [a] = edges as [(typeof edges)[0]];
    for (const p of SMUGGLING_PAYLOADS) {
      const { client } = await RawSmtp.open(a.mx);
      await client.send('EHLO client.test\r\n');
      await client.send('MAIL FROM:<sender@sender.test>\r\n');
      await client.send('RCPT TO:<postmaster@example.test>\r\n');
      await client.send('DATA\r\n');
      for (const [i, seg] of p.segments.entries()) {
        if (i > 0) await sleep(50);
        client.socket.write(seg);
      }
      const reply = await client.reply();
      if (p.bare) assert.match(reply, /^550 5\.6\.0 /, `${p.name}: ${reply}`);
      else assert.match(reply, /^250 /, `${p.name}: ${reply}`);
      client.close();
    }
    await sleep(1500);
    for (const m of sink.messages) {
      assert.equal(m.from === HIDDEN_SENDER, false, 'the hidden transaction never ran');
      assert.equal(/\r(?!\n)|(?<!\r)\n|\0/.test(m.raw.toString('latin1')), false, 'no bare CR, LF or NUL downstream');
    }
  });

  it('tarpits a client that collects errors: each refusal after the third comes later', async () => {
    const [a] = edges as [(typeof edges)[0]];
    const { client } = await RawSmtp.open(a.mx);
    await client.send('EHLO scanner.test\r\n');
    await client.send('MAIL FROM:<sender@sender.test>\r\n');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      assert.match(await client.send(`RCPT TO:<user${i}@elsewhere.test>\r\n`), /^550 5\.7\.1 /);
      times.push(Date.now() - t0);
    }
    client.close();
    assert.ok(
      times.slice(0, 3).every((t) => t < 500),
      `quick at first: ${times}`,
    );
    assert.ok(times[3]! >= 900 && times[4]! >= 1900, `then slower: ${times}`);
  });

  it('cuts off a client that drips its message a byte at a time', async () => {
    const [a] = edges as [(typeof edges)[0]];
    const { client } = await RawSmtp.open(a.mx);
    await client.send('EHLO dripper.test\r\n');
    await client.send('MAIL FROM:<sender@sender.test>\r\n');
    await client.send('RCPT TO:<postmaster@example.test>\r\n');
    await client.send('DATA\r\n');
    const started = Date.now();
    let reply = '';
    const reading = client.reply(10_000).then(
      (r) => (reply = r),
      () => undefined,
    );
    for (let i = 0; i < 40 && !reply && !client.socket.destroyed; i++) {
      client.socket.write('x');
      await sleep(200);
    }
    await reading;
    assert.match(reply, /^421 4\.4\.2 /);
    assert.ok(Date.now() - started < 5000, 'within the DATA time limit, not the idle timeout');
  });

  it('keeps taking mail with Redis down (limits fail open), refuses AUTH (454), and recovers', async () => {
    const [a] = edges as [(typeof edges)[0]];
    await redis.stop();
    try {
      const mx = await sendRawData(a.mx, 'Subject: during outage\r\n\r\nbody\r\n.\r\n');
      assert.match(mx, /^250 /, 'mail is still accepted');
      const { client } = await RawSmtp.openTls(a.subs);
      await client.send('EHLO client.test\r\n');
      assert.match(await client.send(`AUTH PLAIN ${plain('dave@example.test', 'right')}\r\n`), /^454 4\.7\.0 /, 'lockout fails closed');
      client.close();
    } finally {
      await redis.start();
    }
    await waitFor(
      'AUTH works again',
      async () => {
        const { client } = await RawSmtp.openTls(a.subs);
        await client.send('EHLO client.test\r\n');
        const r = await client.send(`AUTH PLAIN ${plain('dave@example.test', 'right')}\r\n`);
        client.close();
        return r.startsWith('235');
      },
      30_000,
      500,
    );
  });
});
