import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { ConfigSchema } from '@portcullis/config';
import { TopicSchemas, Topics, verdict } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { buildDsn, returnedHeaders, statusOf } from '../../src/retry/dsn.js';
import { bounceRecord, messageIdOf, subjectOf } from '../../src/retry/bounce.js';

const original = Buffer.from('From: a@example.net\r\nTo: u@example.test\r\nSubject: hello\r\nMessage-ID: <m1@example.net>\r\n\r\nsecret body\r\n');
const config = ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });

test('a DSN is an RFC 3464 multipart/report with the status per recipient and the headers, not the body', async () => {
  const raw = buildDsn({
    reportingMta: 'mx.example.test',
    to: 'a@example.net',
    arrivalDate: new Date('2030-01-01T00:00:00Z'),
    originalHeaders: original.subarray(0, original.indexOf('\r\n\r\n') + 2),
    recipients: [{ recipient: 'u@example.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 User unknown\r\nsecond line', remoteMta: 'mailbox.example.test' }],
    now: new Date('2030-01-02T00:00:00Z'),
    originalMessageId: 'm1@example.net',
  });
  const text = raw.toString('latin1');
  assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status; boundary="/m);
  assert.match(text, /^Auto-Submitted: auto-replied\r$/m);
  assert.match(text, /^Content-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; mx\.example\.test\r\nArrival-Date: /m);
  assert.match(
    text,
    /^Final-Recipient: rfc822; u@example\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mailbox\.example\.test\r\nDiagnostic-Code: smtp; 550 5\.1\.1 User unknown second line\r$/m,
  );
  assert.match(text, /Content-Type: text\/rfc822-headers\r\n\r\nFrom: a@example\.net/);
  assert.ok(!text.includes('secret body'), 'the body is not returned');
  assert.ok(!/[^\r]\n/.test(text) && !/\r(?!\n)/.test(text), 'CRLF only');
  assert.ok(![...raw].some((c) => c > 0x7e), '7-bit only');
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
  assert.equal(parsed.inReplyTo, '<m1@example.net>');
});

test('a non-ASCII recipient is written as RFC 6533 utf-8-addr-xtext', () => {
  const raw = buildDsn({
    reportingMta: 'mx',
    to: 'a@example.net',
    arrivalDate: new Date(),
    originalHeaders: Buffer.from('Subject: x\r\n'),
    recipients: [{ recipient: 'jörg@example.test', action: 'failed', status: '5.6.7', diagnostic: 'no' }],
    now: new Date(),
  });
  assert.match(raw.toString('latin1'), /^Final-Recipient: utf-8; j\\x\{F6\}rg@example\.test\r$/m);
});

test('the status comes from the reply, else the class default', () => {
  assert.equal(statusOf('550 5.1.1 User unknown', '5.0.0'), '5.1.1');
  assert.equal(statusOf('550 no such user', '5.0.0'), '5.0.0');
});

test('a bounce is a new deliverable message from <> to the envelope sender; none for <>', () => {
  const meta = { ...sampleMeta({ envelope: { mailFrom: 'a@example.net' } }), size: original.length, verdict: verdict('deliver', 'ok', 'content.verdict') };
  const dsn = bounceRecord(config, { meta, raw: original }, [{ recipient: 'u@example.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 no' }]);
  assert.ok(dsn);
  assert.equal(dsn.meta.envelope.mailFrom, '');
  assert.deepEqual(dsn.meta.envelope.rcptTo, ['a@example.net']);
  assert.notEqual(dsn.meta.id, meta.id);
  assert.equal(TopicSchemas[Topics.decided].safeParse(dsn.meta).success, true);
  assert.equal(dsn.meta.size, dsn.raw.length);
  const nullSender = { ...meta, envelope: { ...meta.envelope, mailFrom: '' } };
  assert.equal(bounceRecord(config, { meta: nullSender, raw: original }, [{ recipient: 'u@example.test', action: 'failed', status: '5.1.1', diagnostic: 'x' }]), null);
});

test('the DSN returns the header section by libs/message split: CRLF, bare LF, no body, capped', () => {
  // A normal message: the header section with its last CRLF, as before.
  assert.equal(returnedHeaders(original).toString(), 'From: a@example.net\r\nTo: u@example.test\r\nSubject: hello\r\nMessage-ID: <m1@example.net>\r\n');
  // Bare LF line breaks: the header only, never the body (a '\r\n\r\n' search found none and returned it all).
  const lf = Buffer.from('From: a@example.net\nSubject: lf\n\nsecret body\n');
  assert.equal(returnedHeaders(lf).toString(), 'From: a@example.net\nSubject: lf\n');
  // No empty line: the message is all header.
  const noBody = Buffer.from('From: a@example.net\r\nSubject: no body\r\n');
  assert.equal(returnedHeaders(noBody).toString(), noBody.toString());
  assert.equal(returnedHeaders(Buffer.from('Subject: x')).toString(), 'Subject: x');
  // Capped.
  assert.equal(returnedHeaders(Buffer.from(`X-Big: ${'a'.repeat(100_000)}\r\n\r\nbody\r\n`)).length, 64 * 1024);
  // And in the DSN: CRLF only, the LF message's body not returned.
  const meta = { ...sampleMeta({ envelope: { mailFrom: 'a@example.net' } }), size: lf.length, verdict: verdict('deliver', 'ok', 'content.verdict') };
  const dsn = bounceRecord(config, { meta, raw: lf }, [{ recipient: 'u@example.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 no' }]);
  assert.ok(dsn);
  const text = dsn.raw.toString('latin1');
  assert.match(text, /Content-Type: text\/rfc822-headers\r\n\r\nFrom: a@example\.net\r\nSubject: lf\r\n\r\n--/);
  assert.ok(!text.includes('secret body'));
  const bare = bounceRecord(config, { meta: { ...meta, size: noBody.length }, raw: noBody }, [
    { recipient: 'u@example.test', action: 'delayed', status: '4.4.1', diagnostic: 'later' },
  ]);
  assert.match(bare!.raw.toString('latin1'), /Content-Type: text\/rfc822-headers\r\n\r\nFrom: a@example\.net\r\nSubject: no body\r\n\r\n--/);
});

test('Message-ID and Subject are read from the header section, unfolded; not from the body', () => {
  assert.equal(messageIdOf(original), 'm1@example.net');
  assert.equal(subjectOf(original), 'hello');
  assert.equal(messageIdOf(Buffer.from('Subject: x\n\nMessage-ID: <body@evil.test>\n')), undefined);
  assert.equal(messageIdOf(Buffer.from('Message-ID:\r\n <folded@example.net>\r\n\r\n')), 'folded@example.net');
  assert.equal(subjectOf(Buffer.from('Subject: first\r\n second\r\n\r\nbody')), 'first second');
  assert.equal(subjectOf(Buffer.from('Subject: caf\xe9\r\n\r\n', 'latin1')), 'caf\ufffd', 'an octet that is not UTF-8 does not lose the subject');
  assert.equal(subjectOf(Buffer.from('From: a@example.net\r\n\r\n')), undefined);
});
