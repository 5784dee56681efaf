import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demand, result, type MailMeta } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { decideMessage } from '../src/verdict.js';
import { applyMarking } from '../src/policy/marking.js';
import { messageBody, parseMime } from '@portcullis/message';
import { buildMessage, contentConfig } from './fixtures.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const spam = (score: number) => result('content', 'content.antispam', 'fail', `rspamd score ${score} (add header)`, score, now);

function meta(results: MailMeta['results'], rcptTo = ['user@example.test'], auth: MailMeta['envelope']['auth'] = null): MailMeta {
  return sampleMeta({ results, envelope: { rcptTo, auth } });
}

const policy = contentConfig({
  policy: {
    domains: { 'strict.test': { reject: 8 } },
    recipients: { 'lenient@example.test': { tag: 20, quarantine: 30, reject: 40 } },
    externalTagging: { 'example.test': { header: true, subjectPrefix: '[EXTERNAL]' } },
  },
}).content.policy;

test('the score meets the global thresholds: deliver, tag, quarantine, reject, in operator words', () => {
  const d = (s: number) => decideMessage(meta([spam(s)]), now, { policy });
  assert.equal(d(2).verdict.action, 'deliver');
  assert.equal(d(2).marking.spam, undefined);
  assert.deepEqual(d(7).marking.spam, { score: 7, prefix: '[SPAM]' });
  assert.equal(d(7).verdict.reason, 'tagged as spam: score 7 reached the tag threshold 6 (content.antispam +7: rspamd score 7 (add header))');
  assert.equal(d(12).verdict.action, 'quarantine');
  assert.match(d(12).verdict.reason, /^suspected spam: score 12 reached the quarantine threshold 10/);
  assert.equal(d(15).verdict.action, 'reject');
  assert.equal(d(15).verdict.enhancedCode, '5.7.1');
});

test('per domain and per recipient thresholds; several recipients get the strictest', () => {
  assert.equal(decideMessage(meta([spam(9)], ['a@strict.test']), now, { policy }).verdict.action, 'reject');
  assert.equal(decideMessage(meta([spam(25)], ['lenient@example.test']), now, { policy }).verdict.action, 'deliver');
  assert.equal(decideMessage(meta([spam(25)], ['lenient@example.test', 'user@example.test']), now, { policy }).verdict.action, 'reject');
});

test('scores of every stage add up (auth and reputation too), negative ones included', () => {
  const rs = [spam(5), result('auth', 'auth.spf', 'fail', 'SPF fail', 2, now), result('reputation', 'reputation.allow', 'pass', 'allow-listed', -4)];
  const v = decideMessage(meta(rs), now, { policy }).verdict;
  assert.equal(v.score, 3);
  assert.equal(v.action, 'deliver');
});

test('a demand still wins over any score, the strongest first', () => {
  const av = demand(result('content', 'content.antivirus', 'error', 'antivirus unavailable, try again later'), 'tempfail', '4.3.0');
  const v = decideMessage(meta([spam(-50), av]), now, { policy }).verdict;
  assert.deepEqual([v.action, v.enhancedCode, v.reason], ['tempfail', '4.3.0', 'antivirus unavailable, try again later']);
});

test('outgoing mail of authenticated users: held at the hold threshold, virus held, never tagged; a tempfail stays', () => {
  const bob = { user: 'bob', mechanism: 'PLAIN' };
  assert.equal(decideMessage(meta([spam(5)], ['x@far.example'], bob), now, { policy }).verdict.action, 'deliver');
  const held = decideMessage(meta([spam(6)], ['x@far.example'], bob), now, { policy });
  assert.equal(held.verdict.action, 'quarantine');
  assert.match(held.verdict.reason, /^held \(outgoing\): score 6 reached the hold threshold 6/);
  assert.deepEqual(held.marking, {});
  const virus = demand(result('content', 'content.antivirus', 'fail', 'virus found: X'), 'reject', '5.7.1');
  assert.equal(decideMessage(meta([virus], ['x@far.example'], bob), now, { policy }).verdict.action, 'quarantine');
  const down = demand(result('content', 'content.antivirus', 'error', 'antivirus unavailable'), 'tempfail', '4.3.0');
  assert.equal(decideMessage(meta([down], ['x@far.example'], bob), now, { policy }).verdict.action, 'tempfail');
});

test('external tagging per recipient domain, only for mail from outside', () => {
  assert.deepEqual(decideMessage(meta([]), now, { policy, external: true }).marking.external, { header: true, subjectPrefix: '[EXTERNAL]' });
  assert.equal(decideMessage(meta([]), now, { policy, external: false }).marking.external, undefined);
  assert.equal(decideMessage(meta([], ['a@strict.test']), now, { policy, external: true }).marking.external, undefined);
});

test('marking rewrites only the header section: our headers first, forged ones removed, prefixes once', () => {
  const raw = Buffer.from('Received: by mx\r\nX-Spam-Flag: NO\r\nSubject: Hello\r\n world\r\nFrom: a@b.example\r\n\r\nbody X-Spam-Flag: NO\r\n');
  const out = applyMarking(raw, { spam: { score: 7, prefix: '[SPAM]' }, external: { header: true, subjectPrefix: '[EXTERNAL]' } }, 7).toString('latin1');
  assert.equal(
    out,
    'X-Spam-Flag: YES\r\nX-Spam-Score: 7\r\nX-Spam-Status: Yes, score=7\r\nX-Portcullis-External: yes\r\nReceived: by mx\r\nSubject: [EXTERNAL] [SPAM] Hello\r\n world\r\nFrom: a@b.example\r\n\r\nbody X-Spam-Flag: NO\r\n',
  );
  assert.equal(
    applyMarking(Buffer.from(out, 'latin1'), { spam: { score: 7, prefix: '[SPAM]' }, external: { header: true, subjectPrefix: '[EXTERNAL]' } }, 7).toString('latin1'),
    out,
  );
  const clean = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
  assert.equal(applyMarking(clean, {}, 0), clean, 'nothing to do: the same buffer');
});

test('a message with no body or with bare LF line breaks is marked too (one header/body rule, libs/message)', async () => {
  // Before the one rule, marking looked for CRLF CRLF only and delivered these unmarked.
  const bodiless = Buffer.from('From: a@outside.example\r\nSubject: hi\r\n');
  assert.equal(
    applyMarking(bodiless, { spam: { score: 7, prefix: '[SPAM]' } }, 7).toString('latin1'),
    'X-Spam-Flag: YES\r\nX-Spam-Score: 7\r\nX-Spam-Status: Yes, score=7\r\nFrom: a@outside.example\r\nSubject: [SPAM] hi\r\n',
  );
  const lf = Buffer.from('From: a@outside.example\nSubject: hi\n\nbody\n');
  assert.equal(
    applyMarking(lf, { spam: { score: 7, prefix: '[SPAM]' } }, 7).toString('latin1'),
    'X-Spam-Flag: YES\r\nX-Spam-Score: 7\r\nX-Spam-Status: Yes, score=7\r\nFrom: a@outside.example\nSubject: [SPAM] hi\n\nbody\n',
  );
  const banner = await parseMime(applyMarking(Buffer.from('From: a@outside.example\r\nSubject: hi'), { external: { header: false, banner: 'Outside.' } }, 0));
  assert.equal(banner.subject, 'hi');
  assert.match(banner.text, /^Outside\./);
});

test('a long reason is cut to fit one SMTP reply line', () => {
  const long = result('content', 'content.antispam', 'fail', 'x'.repeat(1000), 20, now);
  const v = decideMessage(meta([long]), now, { policy }).verdict;
  assert.equal(v.action, 'reject');
  assert.equal(v.reason.length, 'message looks like spam: '.length + 400);
  assert.ok(v.reason.endsWith('...'));
});

test('an external banner comes first and the original message, plain or multipart, stays whole', async () => {
  const banner = 'Caution: this message comes from outside the organisation.';
  const plain = Buffer.from('From: a@outside.example\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHällo\r\n');
  const p = await parseMime(applyMarking(plain, { external: { header: true, banner } }, 0), { inspectBytes: 1024 });
  assert.match(p.text, /^Caution: this message comes from outside the organisation\.\s+Hällo/);
  assert.equal(p.subject, 'hi');
  const withFile = buildMessage({ text: 'See attached.', files: [{ filename: 'a.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 x') }] });
  const marked = applyMarking(withFile, { external: { header: false, banner } }, 0);
  const m = await parseMime(marked, { inspectBytes: 1024 });
  assert.match(m.text, /^Caution: .*\sSee attached\./s);
  assert.deepEqual(
    m.parts.map((x) => [x.filename, x.content.toString()]),
    [['a.pdf', '%PDF-1.4 x']],
  );
  assert.ok(marked.includes(messageBody(withFile)), 'the original body is carried byte for byte');
});

test('a reason from the message (a file name) cannot break the reply line', () => {
  const bad = demand(result('content', 'content.attachments', 'fail', 'attachment a\r\n250 OK\r\n.exe has a blocked file type'), 'reject', '5.7.1');
  assert.equal(decideMessage(meta([bad]), now, { policy }).verdict.reason, 'attachment a 250 OK .exe has a blocked file type');
});
