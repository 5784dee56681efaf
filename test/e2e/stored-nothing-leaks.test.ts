/**
 * "A 250 means stored; nothing leaks" (issue 14), against a running gateway in embedded mode
 * writing to a Maildir, over real sockets, with the real DNS server behind the auth stage and the
 * real CLI talking to the admin API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeUsersFile } from '../support/users.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { CLI } from '../support/paths.js';
import { RawSmtp } from '../support/raw-smtp.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
/** A password typed into the user-name field: it must never reach a log line. */
const MISTYPED = 'Tr0ub4dor&3-typed-as-user';
const HOSTILE_SUBJECT = '\u202Etxt.exe \x1b[31mRED\x9b2J';

function message(subject: string, extraHeaders = '', body = 'hello\r\n'): Buffer {
  return Buffer.from(
    `From: <sender@sender.test>\r\nTo: <postmaster@example.test>\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${Math.random()}@sender.test>\r\n${extraHeaders}\r\n${body}.\r\n`,
    'utf8',
  );
}

describe('a 250 means stored; nothing leaks', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-stored-'));
  const maildir = join(dir, 'mail');
  const tokenFile = join(dir, 'token');
  let gw: GatewayProcess;
  let mx: number, sub: number, subs: number, http: number, admin: number;

  before(async () => {
    [mx, sub, subs, http, admin] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    writeFileSync(tokenFile, 'storable-token\n');
    const users = join(dir, 'users.yaml');
    await writeUsersFile(users, [{ username: 'alice@example.test', password: 'correct horse', addresses: ['alice@example.test'] }]);
    gw = new GatewayProcess('stored', {
      services: ['all'],
      smtpPort: mx,
      submissionPort: sub,
      submissionsPort: subs,
      httpPort: http,
      adminPort: admin,
      distributed: false,
      maildir,
      adminTokenFile: tokenFile,
      domainsExtra: '  - name: folded.test\n    localPartCase: lower\n',
      extra: `tls:\n  selfSigned: true\n  selfSignedDir: ${join(dir, 'tls')}\nauth:\n  source: file\n  file: { path: ${users}, pollSeconds: 1 }\n  maxFailuresPerConnection: 3\n`,
    });
    // The gateway inherits the most permissive umask: its Maildir must still be private.
    const umask = process.umask(0);
    try {
      await gw.start();
    } finally {
      process.umask(umask);
    }
  });

  after(async () => {
    assert.equal(await gw.stop('SIGTERM'), 0);
  });

  /** EHLO (as given), MAIL, then each RCPT; returns the replies to the RCPTs and the open client. */
  async function rcpts(client: RawSmtp, to: string[], opts: { ehlo?: Buffer | string; smtputf8?: boolean } = {}) {
    assert.match(await client.send(opts.ehlo ?? 'EHLO client.test\r\n'), /^250/);
    assert.match(await client.send(`MAIL FROM:<sender@sender.test>${opts.smtputf8 ? ' SMTPUTF8' : ''}\r\n`), /^250/);
    const replies: string[] = [];
    for (const r of to) replies.push(await client.send(Buffer.from(`RCPT TO:<${r}>\r\n`, 'utf8')));
    return replies;
  }

  async function deliver(to: string[], raw: Buffer, opts: { ehlo?: Buffer | string; smtputf8?: boolean } = {}): Promise<string> {
    const { client } = await RawSmtp.open(mx);
    try {
      const replies = await rcpts(client, to, opts);
      for (const r of replies) assert.match(r, /^250/, r);
      assert.match(await client.send('DATA\r\n'), /^354/);
      const done = await client.send(raw);
      assert.match(done, /^250 2\.6\.0 Ok: queued as [0-9A-Z]{26}$/, done);
      return done.slice(-26);
    } finally {
      client.close();
    }
  }

  const stored = (box: string, id: string) =>
    waitFor(`${id} in ${box}`, () => {
      try {
        const f = readdirSync(join(maildir, box, 'new')).find((n) => n.includes(id));
        return f ? join(maildir, box, 'new', f) : undefined;
      } catch {
        return undefined;
      }
    });

  it('refuses at RCPT what the Maildir cannot store, and folds case so one mailbox stays one folder', async () => {
    const { client } = await RawSmtp.open(mx);
    // 40 characters but 80 octets: over the 64-octet local part, which is what the file system counts.
    const [long, fits] = await rcpts(client, [`${'ü'.repeat(40)}@example.test`, `${'ü'.repeat(32)}@example.test`], { smtputf8: true }).finally(() => client.close());
    assert.match(long!, /^501 5\.1\.3 Recipient address too long: local-part of 80 octets, at most 64/);
    assert.match(fits!, /^250/);

    const a = await deliver(['Bob@FOLDED.Test'], message('first'));
    const b = await deliver(['bob@folded.test'], message('second'));
    const c = await deliver(['Carol@EXAMPLE.TEST'], message('third'));
    await stored('bob@folded.test', a);
    await stored('bob@folded.test', b);
    await stored('Carol@example.test', c);
    assert.deepEqual(readdirSync(maildir).sort(), ['Carol@example.test', 'bob@folded.test'], 'no folder per spelling');
  });

  it('writes Maildir folders 0700 and files 0600 under a umask of 0', async () => {
    const id = await deliver(['postmaster@example.test'], message('modes'));
    const file = await stored('postmaster@example.test', id);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    for (const d of ['', 'tmp', 'new', 'cur']) assert.equal(statSync(join(maildir, 'postmaster@example.test', d)).mode & 0o777, 0o700, d || 'mailbox');
  });

  it('applies the recipient rules to our domains on 25, 587 and 465, authenticated or not', async () => {
    // (A source route, @example.test:bob@evil.test, never reaches us: smtp-server drops the route, RFC 5321 4.1.1.3.)
    const tricks = ['bob%evil.test@example.test', 'evil.test!bob@example.test', '"bob@evil.test"@example.test', '"bob"@example.test', 'Bob%Evil.Test@EXAMPLE.TEST'];
    const sessions: { name: string; open: () => Promise<RawSmtp> }[] = [
      { name: 'mx', open: async () => (await RawSmtp.open(mx)).client },
      {
        name: 'submission (587, STARTTLS, AUTH)',
        open: async () => {
          const { client } = await RawSmtp.open(sub);
          await client.send('EHLO client.test\r\n');
          assert.match(await client.send('STARTTLS\r\n'), /^220/);
          return client.startTls();
        },
      },
      { name: 'submissions (465, AUTH)', open: async () => (await RawSmtp.openTls(subs)).client },
    ];
    for (const s of sessions) {
      const client = await s.open();
      try {
        if (s.name !== 'mx') {
          await client.send('EHLO client.test\r\n');
          assert.match(await client.send(`AUTH PLAIN ${plain('alice@example.test', 'correct horse')}\r\n`), /^235/);
        }
        assert.match(await client.send('EHLO client.test\r\n'), /^250/);
        assert.match(await client.send(`MAIL FROM:<${s.name === 'mx' ? 'sender@sender.test' : 'alice@example.test'}>\r\n`), /^250/);
        // 553 from our rules; smtp-server's own parser already answers 501 for a quoted @.
        for (const t of tricks) assert.match(await client.send(`RCPT TO:<${t}>\r\n`), /^5(53|01) 5\.1\.3 /, `${s.name}: ${t}`);
        assert.match(await client.send('RCPT TO:<Postmaster@Example.TEST>\r\n'), /^250/, `${s.name}: a plain recipient`);
      } finally {
        client.close();
      }
    }
  });

  it('drops forged Authentication-Results however the authserv-id is spelt, and keeps the rest', async () => {
    const forged = [
      'Authentication-Results: mx.test.portcullis.; dkim=pass header.d=example.test',
      'Authentication-Results: (forged) MX.Test.Portcullis (really) 1; spf=pass',
      'Authentication-Results:\r\n "mx.test.portcullis."; dmarc=pass',
      'Authentication-Results: mx.test.portcullis.(x); arc=pass',
    ];
    const id = await deliver(['postmaster@example.test'], message('forged', `${forged.join('\r\n')}\r\nAuthentication-Results: other.example; spf=pass\r\n`));
    const text = readFileSync(await stored('postmaster@example.test', id), 'utf8');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.doesNotMatch(head, /dkim=pass header\.d=example\.test|\(forged\)|dmarc=pass|arc=pass/);
    assert.match(head, /^Authentication-Results: other\.example; spf=pass$/m, "another host's results are kept");
    assert.match(head, /^Authentication-Results: mx\.test\.portcullis;\r\n/m, 'ours is on top');
  });

  it('writes an 8-bit or bidi EHLO into Received as printable ASCII', async () => {
    const ehlo = Buffer.from('EHLO mx.\u202Eevil\u2067.test\u00e9\r\n', 'utf8');
    const id = await deliver(['postmaster@example.test'], message('ehlo'), { ehlo });
    const raw = readFileSync(await stored('postmaster@example.test', id));
    const received = /^Received: [^]*?\r\n(?![ \t])/m.exec(raw.toString('latin1'))![0];
    assert.match(received, /^[\x20-\x7e\r\n\t]*$/, received);
    assert.ok(received.includes('from mx.%E2%80%AEevil%E2%81%A7.test%C3%A9 ('), received);
  });

  it('never logs the user name of a failed AUTH; a successful login logs its identity', async () => {
    const { client } = await RawSmtp.openTls(subs);
    await client.send('EHLO client.test\r\n');
    assert.match(await client.send(`AUTH PLAIN ${plain(MISTYPED, 'whatever')}\r\n`), /^535 5\.7\.8 /);
    assert.match(await client.send('AUTH LOGIN\r\n'), /^334/);
    assert.match(await client.send(`${Buffer.from(MISTYPED).toString('base64')}\r\n`), /^334/);
    assert.match(await client.send(`${Buffer.from('whatever').toString('base64')}\r\n`), /^535 5\.7\.8 /);
    assert.match(await client.send(`AUTH PLAIN ${plain('alice@example.test', 'correct horse')}\r\n`), /^235/);
    client.close();
    const log = await waitFor('the login in the log', () => {
      const l = readFileSync(gw.logPath, 'utf8');
      return l.includes('"user":"alice@example.test"') && l.split('authentication failed').length > 2 ? l : undefined;
    });
    assert.equal(log.includes(MISTYPED), false, 'the mistyped password is nowhere in the log');
    assert.equal(log.includes(Buffer.from(MISTYPED).toString('base64')), false);
  });

  it('admin API: bad since/until is 400 naming the field; an unparseable quarantined message is shown raw; the CLI escapes hostile text', async () => {
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${admin}/admin/${path}`, { headers: { authorization: 'Bearer storable-token' } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    for (const [area, field] of [
      ['quarantine', 'since'],
      ['quarantine', 'until'],
      ['trace', 'since'],
      ['trace', 'until'],
    ] as const) {
      const r = await get(`${area}?${field}=notadate`);
      assert.equal(r.status, 400, `${area} ${field}`);
      assert.match(String(r.body.error), new RegExp(`^${field} is not a time`));
    }

    // A MIME part whose header is over the parser's 1 MiB: content quarantines it as unparseable.
    const pad = Array.from({ length: 1100 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(980)}`).join('\r\n');
    const body = `--b\r\n${pad}\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--b--\r\n`;
    const id = await deliver(['postmaster@example.test'], message(HOSTILE_SUBJECT, 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n', body));
    const listed = await waitFor('the quarantine entry', async () => ((await get('quarantine')).body.messages as { id: string }[]).find((m) => m.id === id));
    assert.ok(listed);
    const shown = await get(`quarantine/${id}`);
    assert.equal(shown.status, 200, JSON.stringify(shown.body).slice(0, 300));
    const view = shown.body.message as { text: string; unparsed?: string; headers: unknown[] };
    assert.match(view.unparsed ?? '', /header size/i);
    assert.ok(view.text.includes('Subject: \\u202Etxt.exe \\x1b[31mRED\\x9b2J'), view.text.slice(0, 400));
    assert.ok(view.text.includes('X-Pad-0: aaa'), 'the raw message, line breaks kept');

    const cli = async (...args: string[]) => {
      const { stdout } = await run(process.execPath, [CLI, ...args, '--url', `http://127.0.0.1:${admin}`, '--token-file', tokenFile], { maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    };
    const hidden = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
    for (const args of [
      ['quarantine', 'list'],
      ['quarantine', 'show', id],
      ['trace', id],
      ['trace', 'search'],
      ['quarantine', 'list', '--json'],
    ]) {
      const out = await cli(...args);
      assert.doesNotMatch(out, hidden, `${args.join(' ')} prints no control or bidi character`);
      if (args[1] !== 'show' && args[0] !== 'trace') assert.ok(out.includes('\\u202Etxt.exe') || out.includes('\\u202etxt.exe'), `${args.join(' ')}: ${out.slice(0, 300)}`);
    }
    const show = await cli('quarantine', 'show', id);
    assert.match(show, /could not be parsed/);
    assert.ok(show.includes('Subject: \\u202Etxt.exe \\x1b[31mRED\\x9b2J'));
    const list = await cli('quarantine', 'list');
    assert.ok(list.includes('subject: \\u202Etxt.exe \\x1b[31mRED\\x9b2J'), list);
  });
});
