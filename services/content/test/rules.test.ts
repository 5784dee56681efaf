import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckResult } from '@portcullis/contract';
import { createScanner } from '../src/scan.js';
import { decideMessage } from '../src/verdict.js';
import { buildExe, buildMacroDoc, buildMessage, buildPlainDoc, buildZip, contentConfig, record, type MessageSpec } from './fixtures.js';

/** Our own rules only: both engines left disabled (their checks record "not configured"). */
const config = contentConfig({
  phishing: { protectedDomains: ['bank.example'], protectedNames: [{ name: 'Carol Chief', address: 'carol@example.test' }] },
});
const scanner = createScanner(config);

async function scan(spec: MessageSpec, envelope = {}) {
  const rec = record(buildMessage(spec), envelope);
  const out = await scanner.scan(rec);
  const decided = decideMessage({ ...rec.meta, results: out.results }, new Date(), { policy: config.content.policy, external: out.external });
  return { ...out, verdict: decided.verdict, failed: out.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error') };
}

const reasons = (rs: CheckResult[]): string => rs.map((r) => `${r.check}: ${r.reason}`).join('\n');

describe('attachment rules', () => {
  it('records that the engines were not configured rather than pretending they ran', async () => {
    const { results } = await scan({ text: 'hi' });
    assert.deepEqual(
      results
        .filter((r) => r.stage === 'content' && r.outcome === 'skip')
        .map((r) => r.reason)
        .sort(),
      ['antispam not configured', 'antivirus not configured'],
    );
  });

  it('rejects an .exe renamed .pdf by its magic bytes', async () => {
    const { verdict, failed } = await scan({ files: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: buildExe() }] });
    assert.equal(verdict.action, 'reject', reasons(failed));
    assert.equal(verdict.enhancedCode, '5.7.1');
    assert.match(verdict.reason, /invoice\.pdf is really a blocked file type \(exe\)/);
  });

  it('rejects a blocked extension and names a double extension', async () => {
    const { verdict } = await scan({ files: [{ filename: 'invoice.pdf.exe', contentType: 'application/octet-stream', content: Buffer.from('hello') }] });
    assert.equal(verdict.action, 'reject');
    assert.match(verdict.reason, /\(\.exe\) \(double extension\)/);
  });

  it('rejects an executable inside a zip, by name and by magic bytes', async () => {
    const byName = await scan({
      files: [
        {
          filename: 'docs.zip',
          contentType: 'application/zip',
          content: buildZip([
            { name: 'readme.txt', content: Buffer.from('hi') },
            { name: 'setup.scr', content: Buffer.from('x') },
          ]),
        },
      ],
    });
    assert.equal(byName.verdict.action, 'reject');
    assert.match(byName.verdict.reason, /docs\.zip contains setup\.scr/);
    const byMagic = await scan({ files: [{ filename: 'docs.zip', contentType: 'application/zip', content: buildZip([{ name: 'photo.jpg', content: buildExe() }]) }] });
    assert.equal(byMagic.verdict.action, 'reject');
    assert.match(byMagic.verdict.reason, /photo\.jpg, a blocked file type \(exe\)/);
  });

  it('quarantines an encrypted archive (it cannot be scanned)', async () => {
    const { verdict } = await scan({
      files: [{ filename: 'secret.zip', contentType: 'application/zip', content: buildZip([{ name: 'a.txt', content: Buffer.from('data') }], true) }],
    });
    assert.equal(verdict.action, 'quarantine');
    assert.match(verdict.reason, /secret\.zip is an encrypted archive/);
  });

  it('quarantines Office documents with macros, old (OLE) and new (vbaProject.bin), and passes one without', async () => {
    const ole = await scan({ files: [{ filename: 'report.doc', contentType: 'application/msword', content: buildMacroDoc() }] });
    assert.equal(ole.verdict.action, 'quarantine');
    assert.match(ole.verdict.reason, /report\.doc is an Office document with macros/);
    const docm = buildZip([
      { name: '[Content_Types].xml', content: Buffer.from('<Types/>') },
      { name: 'word/document.xml', content: Buffer.from('<w:document/>') },
      { name: 'word/vbaProject.bin', content: buildMacroDoc() },
    ]);
    const ooxml = await scan({ files: [{ filename: 'report.docm', contentType: 'application/vnd.ms-word.document.macroEnabled.12', content: docm }] });
    assert.equal(ooxml.verdict.action, 'quarantine');
    assert.match(ooxml.verdict.reason, /with macros \(word\/vbaProject\.bin\)/);
    const plain = await scan({ files: [{ filename: 'report.doc', contentType: 'application/msword', content: buildPlainDoc() }] });
    assert.equal(plain.verdict.action, 'deliver', reasons(plain.failed));
  });

  it('refuses a part larger than the per-part limit with 5.3.4', async () => {
    const small = createScanner(contentConfig({ attachments: { maxPartBytes: 1000 } }));
    const rec = record(buildMessage({ files: [{ filename: 'big.txt', contentType: 'text/plain', content: Buffer.alloc(5000, 65) }] }));
    const out = await small.scan(rec);
    const v = decideMessage({ ...rec.meta, results: out.results }).verdict;
    assert.equal(v.action, 'reject');
    assert.equal(v.enhancedCode, '5.3.4');
  });
});

describe('phishing rules', () => {
  it('display name of a protected person over an outside address', async () => {
    const { failed } = await scan({ from: 'Carol Chief <carol.chief@freemail.example>' });
    assert.match(reasons(failed), /content\.phishing\.display-name: From shows the name "Carol Chief" but the address is carol\.chief@freemail\.example/);
  });

  it('display name showing a protected domain over another domain', async () => {
    const { failed } = await scan({ from: '"support@bank.example" <help@evil.example>' });
    assert.match(reasons(failed), /display-name: From shows bank\.example but the address is help@evil\.example/);
  });

  it('look-alike domains: a digit for a letter, a Cyrillic letter (IDN), one edit away', async () => {
    const digit = await scan({ from: 'Bank <alerts@bank.examp1e>' });
    assert.match(reasons(digit.failed), /lookalike: From uses bank\.examp1e, a look-alike of bank\.example/);
    // b\u0430nk.example: a Cyrillic a, as it travels (punycode)
    const idn = await scan({ from: 'Bank <alerts@xn--bnk-6cd.example>' });
    assert.match(reasons(idn.failed), /lookalike: From uses b\u0430nk\.example \(xn--bnk-6cd\.example\), a look-alike of bank\.example/);
    const typo = await scan({ html: '<p><a href="https://login.exampel.test/">sign in</a></p>' });
    assert.match(reasons(typo.failed), /lookalike: a link uses login\.exampel\.test, a look-alike of example\.test/);
    const real = await scan({ from: 'Bank <alerts@mail.bank.example>' });
    assert.equal(real.failed.filter((r) => r.check === 'content.phishing.lookalike').length, 0);
  });

  it('link text showing one domain while the link goes to another', async () => {
    const { failed } = await scan({ html: '<a href="https://collector.evil.example/x">https://www.paypal.com/login</a>' });
    assert.match(reasons(failed), /link-mismatch: a link shows www\.paypal\.com but goes to collector\.evil\.example/);
  });

  it('Reply-To elsewhere on outside mail, not on mail of our own users', async () => {
    const outside = await scan({ from: 'Alice <alice@sender.example>', replyTo: 'alice@other.example' });
    assert.match(reasons(outside.failed), /reply-to: Reply-To alice@other\.example differs from From alice@sender\.example/);
    const ours = await scan({ from: 'Bob <bob@example.test>', replyTo: 'bob@other.example' }, { auth: { user: 'bob', mechanism: 'PLAIN' }, listener: 'submission' });
    assert.equal(ours.failed.length, 0, reasons(ours.failed));
  });

  it('several patterns together add up to a reject, with the reasons in the verdict', async () => {
    const { verdict } = await scan({
      from: '"Carol Chief" <carol@bank.examp1e>',
      replyTo: 'payments@collector.example',
      html: '<a href="https://collector.example/pay">https://bank.example/pay</a>',
    });
    assert.equal(verdict.action, 'reject');
    assert.match(verdict.reason, /^message looks like spam: score \d+ reached the reject threshold 15 \(content\.phishing\.lookalike \+8/);
  });

  it('a clean newsletter passes every rule and is delivered', async () => {
    const html =
      '<h1>December news</h1><p>Read <a href="https://news.sender.example/dec">our story</a> or visit <a href="https://www.sender.example/">www.sender.example</a>.</p><p><a href="https://news.sender.example/unsubscribe">Unsubscribe</a></p>';
    const { verdict, failed, results } = await scan({ from: 'Sender News <news@sender.example>', subject: 'December newsletter', text: 'December news', html });
    assert.equal(failed.length, 0, reasons(failed));
    assert.equal(verdict.action, 'deliver');
    assert.ok(results.some((r) => r.check === 'content.attachments' && r.outcome === 'none'));
  });
});
