/**
 * The content stage on the real engines, through SMTP: the verdict is heard in the session.
 * EICAR is refused with 550 5.7.1 (a policy refusal: RFC 3463 X.7.1 "delivery not authorized,
 * message refused"), GTUBE likewise; a scanner that is stopped or frozen mid-test gives its
 * configured failure behaviour: 451 4.3.0 for the antivirus, a recorded skip for rspamd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { writeUsersFile } from '../support/users.js';
import { makeCertificate } from '../support/certs.js';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { parseConfig } from '@portcullis/config';
import { sampleMeta } from '@portcullis/contract/testing';
import { contentStep, createScanner } from '@portcullis/content';
import { CLAMD, daemon, eicarMessage, freeze, RSPAMD } from '../support/scanners.js';

const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*', 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');

describe('content scanners in the SMTP session (real clamd and rspamd)', { timeout: 300_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let port: number;
  let submission: number;

  before(async () => {
    await sink.start();
    [port, submission] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-content-'));
    const cert = makeCertificate(dir, ['mx.test.portcullis']);
    const users = join(dir, 'users.yaml');
    await writeUsersFile(users, [{ username: 'alice@example.test', password: 'correct horse', addresses: ['alice@example.test'] }]);
    const extra = `tls:
  certificates: [{ certFile: ${cert.certFile}, keyFile: ${cert.keyFile} }]
login:
  source: file
  file: { path: ${users} }
content:
  antivirus: { enabled: true, address: "${CLAMD}", timeoutMs: 2000, onFailure: tempfail }
  antispam: { enabled: true, url: "${RSPAMD}", timeoutMs: 2000, onFailure: skip }
`;
    gw = new GatewayProcess('content', {
      services: ['all'],
      smtpPort: port,
      submissionPort: submission,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      verdictTimeoutMs: 8000,
      extra,
    });
    await gw.start();
  });

  after(async () => {
    freezeSafe(false);
    daemon('clamav', 'start');
    daemon('rspamd', 'start');
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('refuses EICAR in the session with 550 5.7.1 and delivers nothing', async () => {
    const r = await sendRaw(port, eicarMessage(`eicar ${Date.now()}`));
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.1 Rejected: virus found: Portcullis\.Test\.EICAR/);
    const clean = await sendRaw(port, makeMessage(`after eicar ${Date.now()}`));
    await waitFor('the next message delivered', () => sink.find(clean.messageId!)[0]);
    assert.equal(sink.find(r.messageId!).length, 0, 'the infected message never reached the mailbox server');
  });

  it('refuses GTUBE as spam with 550 5.7.1', async () => {
    const r = await sendRaw(port, makeMessage(`gtube ${Date.now()}`, [GTUBE]));
    assert.equal(r.code, 550, r.response);
    assert.match(r.response, /^550 5\.7\.1 Rejected: message looks like spam: score \d+/);
  });

  it('delivers clean mail scanned by both engines', async () => {
    const r = await sendRaw(port, makeMessage(`clean ${Date.now()}`));
    assert.equal(r.code, 250, r.response);
    await waitFor('delivery', () => sink.find(r.messageId!)[0]);
  });

  it('holds infected and spammy outgoing mail of an authenticated user: accepted, never sent', async () => {
    const send = (raw: Buffer) =>
      nodemailer
        .createTransport({ host: '127.0.0.1', port: submission, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'correct horse' } })
        .sendMail({
          envelope: { from: 'alice@example.test', to: ['postmaster@example.test'] },
          raw: raw.toString('latin1').replace('From: Sender <sender@sender.test>', 'From: Alice <alice@example.test>'),
        });
    const infected = await send(eicarMessage(`outgoing eicar ${Date.now()}`));
    const spammy = await send(makeMessage(`outgoing gtube ${Date.now()}`, [GTUBE]));
    const ids = [infected, spammy].map((i) => /queued as ([0-9A-Z]{26})/.exec(i.response)?.[1]);
    assert.ok(ids[0] && ids[1], `${infected.response} / ${spammy.response}`);
    await waitFor('both held', async () => /portcullis_content_verdicts_total\{action="quarantine",direction="outbound"\} 2/.test(await gw.metrics()));
    const clean = await sendRaw(port, makeMessage(`after outgoing ${Date.now()}`));
    await waitFor('the next message delivered', () => sink.find(clean.messageId!)[0]);
    assert.deepEqual(
      ids.map((id) => sink.find(id!).length),
      [0, 0],
      'neither held message reached the mailbox server',
    );
  });

  it('answers 451 4.3.0 while clamd is stopped, and accepts again once it is back', async () => {
    daemon('clamav', 'stop');
    try {
      const r = await sendRaw(port, makeMessage(`clamd down ${Date.now()}`));
      assert.equal(r.code, 451, r.response);
      assert.match(r.response, /^451 4\.3\.0 Try again later: antivirus unavailable, try again later/);
    } finally {
      daemon('clamav', 'start');
    }
    const again = await sendRaw(port, makeMessage(`clamd back ${Date.now()}`));
    assert.equal(again.code, 250, again.response);
  });

  it('answers 451 when clamd hangs (frozen with SIGSTOP) past its timeout', async () => {
    freeze('clamav', true);
    try {
      const r = await sendRaw(port, makeMessage(`clamd frozen ${Date.now()}`));
      assert.equal(r.code, 451, r.response);
      assert.ok(r.ms >= 1900, `waited for the 2 s timeout, not less (${Math.round(r.ms)} ms)`);
    } finally {
      freeze('clamav', false);
    }
  });

  it('with rspamd stopped and onFailure skip, delivers and records the skip (never a silent pass)', async () => {
    daemon('rspamd', 'stop');
    try {
      const r = await sendRaw(port, makeMessage(`rspamd down ${Date.now()}`));
      assert.equal(r.code, 250, r.response);
      await waitFor('delivery', () => sink.find(r.messageId!)[0]);
      assert.match(await gw.metrics(), /portcullis_content_findings_total\{check="content\.antispam",outcome="skip"\} 1/);
      // The same stage with rspamd's policy set to tempfail: 451, never a pass.
      const config = parseConfig({ hostname: 'mx.test', domains: [{ name: 'example.test' }], content: { antispam: { enabled: true, url: RSPAMD, onFailure: 'tempfail' } } });
      const raw = makeMessage('rspamd down, tempfail');
      const decided = await contentStep(createScanner(config), config, { meta: sampleMeta({ size: raw.length }), raw });
      assert.deepEqual([decided.meta.verdict?.action, decided.meta.verdict?.enhancedCode], ['tempfail', '4.3.0']);
      assert.equal(decided.meta.results.find((x) => x.check === 'content.antispam')?.reason, 'antispam unavailable, try again later');
    } finally {
      daemon('rspamd', 'start');
    }
  });
});

function freezeSafe(frozen: boolean): void {
  try {
    freeze('clamav', frozen);
  } catch {
    // not running: the after hook starts it
  }
}
