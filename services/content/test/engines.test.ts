import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headerSection } from '@portcullis/message';
import { contentStep, createScanner } from '../src/index.js';
import { ClamdClient, ClamdSizeLimitError, parseAnswer } from '../src/engines/clamd.js';
import { antivirusCheck } from '../src/checks/engines.js';
import { TEST_CLAMD as CLAMD, TEST_RSPAMD as RSPAMD } from '../src/testing.js';
import { buildExe, buildMacroDoc, buildMessage, buildZip, contentConfig, EICAR, GTUBE, record, type MessageSpec } from './fixtures.js';

/** The real clamd and rspamd that test/infra/{clamav,rspamd}.sh start (scripts/test.sh exports where; TEST_CLAMD, TEST_RSPAMD). */
const CLAMD_SOCKET = process.env.PORTCULLIS_TEST_CLAMD_SOCKET || 'unix:.tools/run/clamav/clamd.sock';

const config = contentConfig({
  antivirus: { enabled: true, address: CLAMD, timeoutMs: 10_000 },
  antispam: { enabled: true, url: RSPAMD, timeoutMs: 10_000 },
});
const scanner = createScanner(config);

async function decided(spec: MessageSpec | Buffer, envelope = {}) {
  const rec = record(Buffer.isBuffer(spec) ? spec : buildMessage(spec), envelope);
  return contentStep(scanner, config, rec);
}
const check = (d: Awaited<ReturnType<typeof decided>>, name: string) => d.meta.results.find((r) => r.check === name);

describe('ClamAV through clamd (real daemon, local EICAR signature)', () => {
  it('answers PING and scans over TCP and over the Unix socket', async () => {
    for (const address of [CLAMD, CLAMD_SOCKET]) {
      const client = new ClamdClient({ address, timeoutMs: 5000, poolSize: 2 });
      assert.equal(await client.ping(), true, address);
      assert.deepEqual(await client.scan(EICAR), { kind: 'infected', signature: 'Portcullis.Test.EICAR.UNOFFICIAL' });
      assert.deepEqual(await client.scan(Buffer.from('hello')), { kind: 'clean' });
    }
  });

  it('rejects EICAR as an attachment with 5.7.1, naming the signature', async () => {
    const d = await decided({ files: [{ filename: 'eicar.txt', contentType: 'text/plain', content: EICAR }] });
    assert.equal(check(d, 'content.antivirus')?.outcome, 'fail');
    assert.equal(d.meta.verdict?.action, 'reject');
    assert.equal(d.meta.verdict?.enhancedCode, '5.7.1');
    assert.equal(d.meta.verdict?.reason, 'virus found: Portcullis.Test.EICAR.UNOFFICIAL');
  });

  it('finds EICAR inside a zip attachment', async () => {
    const d = await decided({ files: [{ filename: 'files.zip', contentType: 'application/zip', content: buildZip([{ name: 'notes/eicar.txt', content: EICAR }]) }] });
    assert.match(check(d, 'content.antivirus')?.reason ?? '', /^virus found: Portcullis\.Test\.EICAR/);
    assert.equal(d.meta.verdict?.action, 'reject');
  });

  it('finds EICAR base64-encoded in an inline part of a multipart message', async () => {
    const raw = Buffer.from(
      'From: a@sender.example\r\nTo: user@example.test\r\nSubject: inline\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="x"\r\n\r\n' +
        `--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${EICAR.toString('base64')}\r\n--x--\r\n`,
    );
    const d = await decided(raw);
    assert.match(check(d, 'content.antivirus')?.reason ?? '', /^virus found: /);
    assert.equal(d.meta.verdict?.action, 'reject');
  });

  it('holds infected outgoing mail of an authenticated user instead of sending or rejecting it', async () => {
    const d = await decided(
      { files: [{ filename: 'eicar.txt', contentType: 'text/plain', content: EICAR }] },
      { auth: { user: 'bob', mechanism: 'PLAIN' }, listener: 'submission' },
    );
    assert.equal(d.meta.verdict?.action, 'quarantine');
    assert.match(d.meta.verdict?.reason ?? '', /^held \(outgoing\): virus found: Portcullis\.Test\.EICAR/);
  });

  it('follows onTooLarge when clamd refuses a stream longer than its StreamMaxLength (30M in the test daemon)', async () => {
    const big = Buffer.alloc(31 * 1024 * 1024, 65);
    await assert.rejects(new ClamdClient({ address: CLAMD, timeoutMs: 10_000, poolSize: 1 }).scan(big), ClamdSizeLimitError);
    const lax = contentConfig({ antivirus: { enabled: true, address: CLAMD, maxBytes: 64 * 1024 * 1024, onTooLarge: 'skip' } });
    const check = antivirusCheck(new ClamdClient(lax.content.antivirus));
    const ctx = {
      meta: record(big).meta,
      raw: big,
      parsed: { from: [], replyTo: [], subject: '', html: '', text: '', parts: [] },
      config: lax.content,
      localDomains: [],
      outbound: false,
      now: new Date(),
    };
    const [r] = await check(ctx);
    assert.deepEqual([r?.outcome, r?.reason, r?.action], ['skip', "antivirus skipped: message longer than clamd's StreamMaxLength", undefined]);
  });

  it('turns clamd error answers into errors, never a clean result', () => {
    assert.throws(() => parseAnswer('INSTREAM size limit exceeded. ERROR'), ClamdSizeLimitError);
    assert.throws(() => parseAnswer('UNKNOWN COMMAND'), /clamd: UNKNOWN COMMAND/);
    assert.throws(() => parseAnswer(''), /empty answer/);
    assert.deepEqual(parseAnswer('stream: OK'), { kind: 'clean' });
  });
});

describe('both engines and our rules on the same messages', () => {
  it('an .exe named .pdf and a macro document: clean to clamd and rspamd, refused or held by our rules', async () => {
    const exe = await decided({ files: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: buildExe() }] });
    assert.deepEqual([check(exe, 'content.antivirus')?.outcome, check(exe, 'content.antispam')?.outcome === 'skip'], ['pass', false]);
    assert.equal(exe.meta.verdict?.action, 'reject');
    assert.match(exe.meta.verdict?.reason ?? '', /invoice\.pdf is really a blocked file type \(exe\)/);
    const macro = await decided({ files: [{ filename: 'q4.doc', contentType: 'application/msword', content: buildMacroDoc() }] });
    assert.equal(check(macro, 'content.antivirus')?.outcome, 'pass');
    assert.equal(macro.meta.verdict?.action, 'quarantine');
    assert.match(macro.meta.verdict?.reason ?? '', /q4\.doc is an Office document with macros/);
  });

  it('a phishing message: rspamd scores it, our rules add theirs, the reasons name both', async () => {
    const d = await decided({
      from: '"Example Support" <support@examp1e.test>',
      replyTo: 'collect@far.example',
      html: '<p>Your mailbox is full. <a href="https://collect.far.example/login">https://example.test/login</a></p>',
    });
    assert.equal(check(d, 'content.antispam')?.outcome === 'skip', false);
    assert.ok(d.meta.results.some((r) => r.check === 'content.phishing.lookalike'));
    assert.ok(d.meta.results.some((r) => r.check === 'content.phishing.link-mismatch'));
    assert.notEqual(d.meta.verdict?.action, 'deliver', d.meta.verdict?.reason);
    assert.match(d.meta.verdict?.reason ?? '', /content\.phishing\.lookalike \+8: From uses examp1e\.test, a look-alike of example\.test/);
  });
});

describe('rspamd through /checkv2 (real daemon, Debian rules)', () => {
  it('rejects GTUBE by its score, with rspamd symbols in the reason', async () => {
    const d = await decided({ subject: 'Test spam', text: `This is the GTUBE\r\n${GTUBE}\r\n` });
    const as = check(d, 'content.antispam');
    assert.equal(as?.outcome, 'fail');
    assert.ok((as?.score ?? 0) >= 15, as?.reason);
    assert.match(as?.reason ?? '', /GTUBE/);
    assert.equal(d.meta.verdict?.action, 'reject');
    assert.match(d.meta.verdict?.reason ?? '', /^message looks like spam: score \d+(\.\d+)? reached the reject threshold 15 \(content\.antispam/);
  });

  it('holds spammy outgoing mail (quarantine), never delivers or tags it', async () => {
    const d = await decided({ text: GTUBE }, { auth: { user: 'bob', mechanism: 'PLAIN' }, listener: 'submission' });
    assert.equal(d.meta.verdict?.action, 'quarantine');
    assert.match(d.meta.verdict?.reason ?? '', /^held \(outgoing\): score/);
  });

  it('delivers a clean newsletter, scanned by both engines, unchanged', async () => {
    const raw = buildMessage({
      from: 'Sender News <news@sender.example>',
      subject: 'December newsletter',
      text: 'Our December news: a new office, a new product, and the holiday hours.',
      html: '<h1>December news</h1><p>A new office and a new product. <a href="https://news.sender.example/dec">Read more</a></p>',
      extraHeaders: ['List-Unsubscribe: <https://news.sender.example/unsubscribe>'],
    });
    const d = await decided(raw);
    assert.equal(check(d, 'content.antivirus')?.outcome, 'pass');
    assert.equal(check(d, 'content.antispam')?.outcome, 'pass');
    assert.equal(d.meta.verdict?.action, 'deliver', d.meta.verdict?.reason);
    assert.ok(d.raw.equals(raw), 'a message below the tag threshold is not modified');
  });

  it('tags mail between the tag and quarantine thresholds: X-Spam headers and a subject prefix', async () => {
    const strict = contentConfig({ antispam: { enabled: true, url: RSPAMD }, policy: { recipients: { 'user@example.test': { tag: -100 } } } });
    const rec = record(buildMessage({ subject: 'Hello' }));
    const d = await contentStep(createScanner(strict), strict, rec);
    assert.equal(d.meta.verdict?.action, 'deliver');
    assert.match(d.meta.verdict?.reason ?? '', /^tagged as spam: score -?\d+(\.\d+)? reached the tag threshold -100/);
    const head = headerSection(d.raw).toString('latin1');
    assert.match(head, /^X-Spam-Flag: YES\r\nX-Spam-Score: -?[\d.]+\r\nX-Spam-Status: Yes, score=/);
    assert.match(head, /\r\nSubject: \[SPAM\] Hello(\r\n|$)/);
    assert.equal(d.meta.size, d.raw.length);
  });
});
