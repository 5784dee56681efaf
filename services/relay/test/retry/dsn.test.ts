import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { ConfigSchema } from '@portcullis/config';
import { TopicSchemas, Topics, verdict } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { buildDsn, statusOf } from '../../src/retry/dsn.js';
import { bounceRecord } from '../../src/retry/bounce.js';

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
