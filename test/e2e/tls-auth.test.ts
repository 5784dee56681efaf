/**
 * TLS, AUTH and the real client IP, over real sockets against a running
 * gateway (embedded mode: the edge code is the same in both modes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { writeUsersFile } from '../support/users.js';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeCertificate } from '../support/certs.js';
import { RawSmtp, sendRawData } from '../support/raw-smtp.js';
import { makeMessage } from '../support/smtp.js';
import { waitFor, sleep } from '../support/wait.js';

interface Handshake {
  ok: boolean;
  error?: string;
  cert?: PeerCertificate;
  protocol?: string | null;
  cipher?: string;
}

/** A TLS handshake on an implicit-TLS port; reports what was negotiated or why it failed. */
function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    s.once('secureConnect', () => {
      const r = { ok: true, cert: s.getPeerCertificate(), protocol: s.getProtocol(), cipher: s.getCipher().name };
      s.destroy();
      resolve(r);
    });
    s.once('error', (err: Error) => resolve({ ok: false, error: err.message }));
  });
}

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

describe('TLS, AUTH and sender identity (file credentials)', { timeout: 180_000 }, () => {
  const sink = new MailboxSink();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
  let gw: GatewayProcess;
  let mx: number, sub: number, subs: number;
  const a = { ec: makeCertificate(dir, ['mx-a.test'], 'ec', 'a-ec'), rsa: makeCertificate(dir, ['mx-a.test'], 'rsa', 'a-rsa') };
  const b = makeCertificate(dir, ['mx-b.test'], 'ec', 'b');

  before(async () => {
    await sink.start();
    [mx, sub, subs] = [await freePort(), await freePort(), await freePort()];
    const users = join(dir, 'users.yaml');
    await writeUsersFile(users, [{ username: 'alice@example.test', password: 'correct horse', addresses: ['alice@example.test'] }]);
    gw = new GatewayProcess('tls', {
      services: ['all'],
      smtpPort: mx,
      submissionPort: sub,
      submissionsPort: subs,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      extra: `tls:
  certificates:
    - { certFile: ${a.ec.certFile}, keyFile: ${a.ec.keyFile} }
    - { certFile: ${a.rsa.certFile}, keyFile: ${a.rsa.keyFile} }
    - { certFile: ${b.certFile}, keyFile: ${b.keyFile} }
  reloadCheckMs: 1000
login:
  source: file
  file: { path: ${users}, pollSeconds: 1 }
  maxFailuresPerConnection: 3
`,
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('accepts TLS 1.2 and 1.3 and refuses 1.0 and 1.1', async () => {
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const h = await handshake(subs, { minVersion: v, maxVersion: v, servername: 'mx-a.test' });
      assert.ok(h.ok, `${v}: ${h.error}`);
      assert.equal(h.protocol, v);
    }
    for (const v of ['TLSv1', 'TLSv1.1'] as const) {
      const h = await handshake(subs, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0', servername: 'mx-a.test' });
      assert.equal(h.ok, false, `${v} must be refused`);
    }
  });

  it('offers only forward-secret AEAD suites on TLS 1.2', async () => {
    for (const suite of ['AES128-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA']) {
      const h = await handshake(subs, { maxVersion: 'TLSv1.2', ciphers: `${suite}@SECLEVEL=0`, servername: 'mx-a.test' });
      assert.equal(h.ok, false, `${suite} must be refused`);
    }
    const good = await handshake(subs, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', servername: 'mx-a.test' });
    assert.ok(good.ok, good.error);
  });

  it('picks the certificate by SNI, and serves ECDSA and RSA side by side', async () => {
    const byB = await handshake(subs, { servername: 'mx-b.test' });
    assert.match(byB.cert?.subjectaltname ?? '', /DNS:mx-b\.test/);
    const byA = await handshake(subs, { servername: 'mx-a.test' });
    assert.match(byA.cert?.subjectaltname ?? '', /DNS:mx-a\.test/);
    const none = await handshake(subs, {});
    assert.match(none.cert?.subjectaltname ?? '', /DNS:mx-a\.test/, 'no SNI: the first configured certificate');
    const rsa = await handshake(subs, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', servername: 'mx-a.test' });
    assert.ok(rsa.ok, rsa.error);
    assert.ok(rsa.cert?.modulus, 'an RSA-only client gets the RSA certificate');
    const ec = await handshake(subs, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', servername: 'mx-a.test' });
    assert.ok(ec.ok && !ec.cert?.modulus, 'an ECDSA client gets the ECDSA certificate');
  });

  it('serves a renewed certificate on the next handshake while an open session carries on', async () => {
    const { client } = await RawSmtp.openTls(subs, { servername: 'mx-b.test' });
    assert.match(await client.send('EHLO client.test\r\n'), /^250/);
    const before = (await handshake(subs, { servername: 'mx-b.test' })).cert?.fingerprint256;
    const renewed = makeCertificate(mkdtempSync(join(tmpdir(), 'portcullis-renew-')), ['mx-b.test'], 'ec', 'b');
    copyFileSync(renewed.keyFile, b.keyFile);
    copyFileSync(renewed.certFile, b.certFile);
    await waitFor(
      'the renewed certificate served',
      async () => {
        const fp = (await handshake(subs, { servername: 'mx-b.test' })).cert?.fingerprint256;
        return fp && fp !== before;
      },
      15_000,
      300,
    );
    assert.match(await client.send('NOOP\r\n'), /^250/, 'the session opened before the renewal still works');
    client.close();
  });

  it('offers AUTH on 587 only after STARTTLS: 530 5.7.0 before, 235 after', async () => {
    const { client } = await RawSmtp.open(sub);
    const ehlo = await client.send('EHLO client.test\r\n');
    assert.match(ehlo, /STARTTLS/);
    assert.doesNotMatch(ehlo, /AUTH/);
    assert.match(await client.send(`AUTH PLAIN ${plain('alice@example.test', 'correct horse')}\r\n`), /^530 5\.7\.0 /);
    assert.match(await client.send('MAIL FROM:<alice@example.test>\r\n'), /^530 5\.7\.0 /);
    assert.match(await client.send('STARTTLS\r\n'), /^220/);
    const tls = await client.startTls({ servername: 'mx-a.test' });
    assert.match(await tls.send('EHLO client.test\r\n'), /AUTH PLAIN LOGIN/);
    assert.match(await tls.send(`AUTH PLAIN ${plain('alice@example.test', 'correct horse')}\r\n`), /^235 2\.7\.0/);
    tls.close();
  });

  it('answers 535 5.7.8 to wrong credentials and closes the connection after three', async () => {
    const { client } = await RawSmtp.openTls(subs, { servername: 'mx-a.test' });
    await client.send('EHLO client.test\r\n');
    assert.match(await client.send(`AUTH PLAIN ${plain('alice@example.test', 'wrong')}\r\n`), /^535 5\.7\.8 /);
    assert.match(await client.send(`AUTH PLAIN ${plain('nobody@example.test', 'wrong')}\r\n`), /^535 5\.7\.8 /);
    assert.match(await client.send(`AUTH PLAIN ${plain('alice@example.test', 'again wrong')}\r\n`), /^421 4\.7\.0 /);
    await waitFor('the connection closed', () => client.socket.destroyed || client.socket.readableEnded, 5000);
  });

  it('ignores commands pipelined after STARTTLS in clear text (no STARTTLS command injection)', async () => {
    const { client } = await RawSmtp.open(mx);
    await client.send('EHLO client.test\r\n');
    assert.match(await client.send('STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n'), /^220/);
    const tls = await client.startTls({ servername: 'mx-a.test' });
    await sleep(500);
    assert.equal(tls.unread, '', 'no reply to the injected command inside TLS');
    await tls.send('EHLO client.test\r\n');
    assert.match(await tls.send('RCPT TO:<postmaster@example.test>\r\n'), /^503/, 'the injected MAIL FROM was not executed');
    tls.close();
  });

  it('lets an authenticated user send only as itself, and delivers what it sends with the TLS details recorded', async () => {
    const transport = (from: string) =>
      nodemailer
        .createTransport({
          host: '127.0.0.1',
          port: sub,
          requireTLS: true,
          tls: { rejectUnauthorized: false, servername: 'mx-a.test' },
          auth: { user: 'alice@example.test', pass: 'correct horse' },
        })
        .sendMail({
          envelope: { from, to: ['postmaster@example.test'] },
          raw: makeMessage(`from ${from}`).toString().replace('From: Sender <sender@sender.test>', 'From: Alice <alice@example.test>'),
        });
    await assert.rejects(transport('bob@example.test'), (e: Error & { response?: string }) => /^553 5\.7\.1 /.test(e.response ?? ''));
    const headerSpoof = nodemailer
      .createTransport({ host: '127.0.0.1', port: sub, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'correct horse' } })
      .sendMail({
        envelope: { from: 'alice@example.test', to: ['postmaster@example.test'] },
        raw: makeMessage('header spoof').toString().replace('From: Sender <sender@sender.test>', 'From: CEO <ceo@example.test>'),
      });
    await assert.rejects(headerSpoof, (e: Error & { response?: string }) => /^553 5\.7\.1 /.test(e.response ?? ''));
    const info = await transport('alice@example.test');
    const id = /queued as ([0-9A-Z]{26})/.exec(info.response)?.[1];
    assert.ok(id, info.response);
    const got = await waitFor('delivery', () => sink.find(id)[0]);
    assert.match(got.raw.toString('latin1', 0, 600), /\(using TLSv1\.3 with cipher TLS_[A-Z0-9_]+ for SNI mx-a\.test\)\r\n\tby .* with ESMTPSA id /);
    assert.match(await gw.metrics(), /portcullis_edge_tls_handshakes_total\{listener="submission",version="TLSv1\.3",cipher="TLS_[A-Z0-9_]+"\} [1-9]/);
  });

  it('refuses an unauthenticated relay attempt on the MX port and allows mail to us without TLS', async () => {
    assert.match(await sendRawData(mx, 'Subject: x\r\n\r\nbody\r\n.\r\n', 'someone@elsewhere.test'), /^550 5\.7\.1 /);
    assert.match(await sendRawData(mx, 'From: a@sender.test\r\nSubject: x\r\n\r\nbody\r\n.\r\n'), /^250 /);
  });
});

describe('pass-through credentials and PROXY protocol', { timeout: 120_000 }, () => {
  const sink = new MailboxSink();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pt-'));
  const mailboxCert = makeCertificate(dir, ['mailbox.test'], 'ec', 'mailbox');
  const edgeCert = makeCertificate(dir, ['mx.test'], 'ec', 'edge');
  let mailbox: SMTPServer;
  let mailboxPort: number;
  let gw: GatewayProcess;
  let mx: number, subs: number;

  before(async () => {
    await sink.start();
    const { readFileSync } = await import('node:fs');
    // The organisation's mailbox server, checking credentials on its submission port.
    mailbox = new SMTPServer({
      key: readFileSync(mailboxCert.keyFile),
      cert: readFileSync(mailboxCert.certFile),
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      disableReverseLookup: true,
      onAuth(auth, _session, cb) {
        if (auth.username === 'carol@example.test' && auth.password === 's3cret') return cb(null, { user: auth.username });
        cb(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
      },
    });
    mailbox.on('error', () => undefined);
    mailboxPort = await freePort();
    await new Promise<void>((r) => mailbox.listen(mailboxPort, '127.0.0.1', () => r()));
    [mx, subs] = [await freePort(), await freePort()];
    gw = new GatewayProcess('passthrough', {
      services: ['all'],
      smtpPort: mx,
      submissionsPort: subs,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      mxProxy: '{ trustedCidrs: [127.0.0.0/8], required: true }',
      extra: `tls:
  certificates: [{ certFile: ${edgeCert.certFile}, keyFile: ${edgeCert.keyFile} }]
# auth: the old name of login, still read (with a warning at start) so that existing installs keep working.
auth:
  source: passthrough
  passthrough: { host: 127.0.0.1, port: ${mailboxPort}, tls: starttls, verifyCertificate: true, caFile: ${mailboxCert.certFile}, servername: mailbox.test, cacheSeconds: 60 }
`,
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await new Promise<void>((r) => mailbox.close(() => r()));
    await sink.stop();
  });

  it('reads the old key auth as login and logs at start that it is deprecated', async () => {
    const { readFileSync } = await import('node:fs');
    assert.match(readFileSync(gw.logPath, 'utf8'), /config key auth is deprecated: it is read as login/);
  });

  it('accepts credentials the mailbox server accepts, and refuses the others', async () => {
    const good = await RawSmtp.openTls(subs);
    await good.client.send('EHLO client.test\r\n');
    assert.match(await good.client.send(`AUTH PLAIN ${plain('carol@example.test', 's3cret')}\r\n`), /^235 /);
    good.client.close();
    const bad = await RawSmtp.openTls(subs);
    await bad.client.send('EHLO client.test\r\n');
    assert.match(await bad.client.send(`AUTH PLAIN ${plain('carol@example.test', 'guess')}\r\n`), /^535 5\.7\.8 /);
    bad.client.close();
  });

  it('takes the client address from a PROXY v2 header and records it downstream', async () => {
    const { client } = await openProxied(mx, proxyV2('203.0.113.7', 40001, '192.0.2.10', 25));
    assert.match(await client.send('EHLO client.test\r\n'), /^250/);
    await client.send('MAIL FROM:<sender@sender.test>\r\n');
    await client.send('RCPT TO:<postmaster@example.test>\r\n');
    await client.send('DATA\r\n');
    const reply = await client.send('From: a@sender.test\r\nSubject: proxied v2\r\n\r\nhello\r\n.\r\n');
    const id = /queued as ([0-9A-Z]{26})/.exec(reply)?.[1];
    assert.ok(id, reply);
    client.close();
    const got = await waitFor('delivery', () => sink.find(id)[0]);
    assert.match(got.raw.toString('latin1', 0, 3000), /^Received: from client\.test \(\[203\.0\.113\.7\]\)/m);
    // SPF was checked for the client behind the proxy, not for the proxy.
    assert.match(got.raw.toString('latin1', 0, 3000), /^Received-SPF: none .* client-ip=203\.0\.113\.7;/m);
  });

  it('takes the client address from a PROXY v1 header, and refuses a connection without one (421)', async () => {
    const v1 = await openProxied(mx, Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 40002 25\r\n'));
    assert.match(await v1.client.send('EHLO client.test\r\n'), /^250/);
    v1.client.close();
    const { client, greeting } = await RawSmtp.open(mx);
    assert.match(greeting, /^421 4\.7\.0 PROXY protocol header required/);
    client.close();
  });
});

function proxyV2(src: string, sport: number, dst: string, dport: number): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const addr = Buffer.alloc(12);
  src.split('.').forEach((o, i) => addr.writeUInt8(Number(o), i));
  dst.split('.').forEach((o, i) => addr.writeUInt8(Number(o), 4 + i));
  addr.writeUInt16BE(sport, 8);
  addr.writeUInt16BE(dport, 10);
  const head = Buffer.from([0x21, 0x11, 0x00, 12]);
  return Buffer.concat([sig, head, addr]);
}

async function openProxied(port: number, header: Buffer): Promise<{ client: RawSmtp; greeting: string }> {
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(header);
  const client = new RawSmtp(socket);
  return { client, greeting: await client.reply() };
}
