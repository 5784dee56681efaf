/**
 * The same road in embedded mode: `portcullis run all` with the in-process bus
 * and in-memory state, as `make run` starts it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeLargeMessage, makeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { sendRawData } from '../support/raw-smtp.js';

describe('embedded mode, all services in one process', { timeout: 300_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let smtpPort: number;

  before(async () => {
    await sink.start();
    smtpPort = await freePort();
    gw = new GatewayProcess('embedded', { services: ['all'], smtpPort, httpPort: await freePort(), downstreamPort: sink.port, distributed: false });
    await gw.start();
  });

  after(async () => {
    assert.equal(await gw.stop('SIGTERM'), 0, 'SIGTERM ends the process cleanly');
    await sink.stop();
  });

  it('delivers byte for byte to the mailbox server, with the verdict heard in session', async () => {
    const original = makeMessage(`embedded ${Date.now()}`);
    const r = await sendRaw(smtpPort, original);
    assert.equal(r.code, 250, r.response);
    assert.match(r.response, /^250 2\.6\.0 Ok: queued as [0-9A-Z]{26}$/);
    const got = await waitFor('delivery', () => sink.find(r.messageId!)[0]);
    assert.ok(got.raw.subarray(got.raw.length - original.length).equals(original));
    assert.match(await gw.metrics(), /portcullis_edge_data_replies_total\{code="250",outcome="accepted",verdict="deliver"\} 1/);
  });

  it('delivers a 20 MiB message unchanged', async () => {
    const original = makeLargeMessage(`embedded-large ${Date.now()}`, 20 * 1024 * 1024);
    const r = await sendRaw(smtpPort, original);
    assert.equal(r.code, 250, r.response);
    const got = await waitFor('delivery', () => sink.find(r.messageId!)[0], 60_000);
    assert.ok(got.raw.subarray(got.raw.length - original.length).equals(original));
  });

  it('refuses relaying and bare line endings with the right codes, and stores nothing', async () => {
    const relay = await sendRaw(smtpPort, makeMessage('relay attempt'), { from: 'a@sender.test', to: ['victim@elsewhere.test'] });
    assert.equal(relay.code, 550);
    assert.match(relay.response, /^550 5\.7\.1 /);
    const percent = await sendRaw(smtpPort, makeMessage('percent hack'), { from: 'a@sender.test', to: ['victim%elsewhere.test@example.test'] });
    assert.equal(percent.code, 553);
    // nodemailer would fix the line endings itself, so this one is sent byte by byte.
    const bare = await sendRawData(smtpPort, 'Subject: bare\r\n\r\nline one\nline two\r\n.\r\n');
    assert.match(bare, /^550 5\.6\.0 /);
  });
});

describe('embedded mode without a mailbox server', { timeout: 120_000 }, () => {
  it('writes the message into a Maildir per recipient', async () => {
    const maildir = mkdtempSync(join(tmpdir(), 'portcullis-maildir-'));
    const smtpPort = await freePort();
    const gw = new GatewayProcess('embedded-maildir', { services: ['all'], smtpPort, httpPort: await freePort(), distributed: false, maildir });
    await gw.start();
    try {
      const original = makeMessage(`maildir ${Date.now()}`);
      const r = await sendRaw(smtpPort, original);
      assert.equal(r.code, 250, r.response);
      const box = join(maildir, 'postmaster@example.test', 'new');
      const file = await waitFor('the Maildir file', () => {
        try {
          return readdirSync(box).find((f) => f.includes(r.messageId!));
        } catch {
          return undefined;
        }
      });
      const stored = readFileSync(join(box, file));
      assert.ok(stored.subarray(stored.length - original.length).equals(original));
    } finally {
      assert.equal(await gw.stop('SIGTERM'), 0);
    }
  });
});

describe('embedded mode with recipient verification', { timeout: 120_000 }, () => {
  it('refuses unknown users in the session (550 5.1.1) and accepts known ones', async () => {
    const sink = new MailboxSink(new Set(['postmaster@example.test']));
    await sink.start();
    const smtpPort = await freePort();
    const gw = new GatewayProcess('embedded-verify', { services: ['all'], smtpPort, httpPort: await freePort(), distributed: false, downstreamPort: sink.port });
    // The same config with verification turned on for the domain.
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(gw.configPath, readFileSync(gw.configPath, 'utf8').replace(/(downstream: \{[^}]*\})/, '$1\n    verifyRecipients: { enabled: true }'));
    await gw.start();
    try {
      const unknown = await sendRawData(smtpPort, 'Subject: x\r\n\r\nbody\r\n.\r\n', 'nobody@example.test');
      assert.match(unknown, /^550 5\.1\.1 /);
      const r = await sendRaw(smtpPort, makeMessage(`verified ${Date.now()}`));
      assert.equal(r.code, 250, r.response);
      await waitFor('delivery', () => sink.find(r.messageId!)[0]);
    } finally {
      await gw.stop('SIGTERM');
      await sink.stop();
    }
  });
});
