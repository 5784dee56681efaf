import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdict } from '@portcullis/contract';
import { replyForVerdict, refusalForVerdict, smtpError, formatReply, connect, data, rcpt } from '../src/index.js';

const ID = '01J0000000ABCDEFGHJKMNPQRS';

test('deliver and quarantine verdicts both give 250 with the message id', () => {
  for (const action of ['deliver', 'quarantine'] as const) {
    const r = replyForVerdict(verdict(action, 'looks like spam', 'test'), ID);
    assert.equal(r.code, 250);
    assert.equal(r.enhanced, '2.6.0');
    assert.ok(r.text.includes(ID));
    assert.ok(!r.text.includes('spam'), 'a quarantine must not tell the sender why');
  }
});

test("reject uses the verdict's enhanced code", () => {
  const r = replyForVerdict(verdict('reject', 'virus found', 'content.clamav', { enhancedCode: '5.7.0' }), ID);
  assert.deepEqual(r, { code: 550, enhanced: '5.7.0', text: `Rejected: virus found (${ID})` });
});

test('reject without an enhanced code gets 5.7.1', () => {
  const r = replyForVerdict(verdict('reject', 'spam', 'content'), ID);
  assert.equal(r.code, 550);
  assert.equal(r.enhanced, '5.7.1');
  assert.ok(r.text.includes('spam') && r.text.includes(ID));
});

test('tempfail gives 451 4.7.1 unless the verdict says otherwise', () => {
  const r = replyForVerdict(verdict('tempfail', 'greylisted', 'reputation'), ID);
  assert.deepEqual(r, { code: 451, enhanced: '4.7.1', text: `Try again later: greylisted (${ID})` });
  assert.equal(replyForVerdict(verdict('tempfail', 'x', 'y', { enhancedCode: '4.3.0' }), ID).enhanced, '4.3.0');
});

test('smtpError carries the response code and starts its message with the enhanced code', () => {
  const err = smtpError(rcpt.relayDenied.reply('user@other.test'));
  assert.ok(err instanceof Error);
  assert.equal(err.responseCode, 550);
  assert.equal(err.enhanced, '5.7.1');
  assert.equal(err.message, '5.7.1 Relay access denied for <user@other.test>');
});

test('formatReply writes code, enhanced code and text', () => {
  assert.equal(formatReply(data.tooBig.reply(1024)), '552 5.3.4 Message exceeds the size limit of 1024 octets');
  assert.equal(formatReply(data.queued.reply(ID)), `250 2.6.0 Ok: queued as ${ID}`);
});

test('every fixed reply has a class-consistent enhanced code', () => {
  const all = [
    data.queued.reply(ID),
    data.storeFailed.reply(ID),
    data.localProblem.reply(),
    data.tooBig.reply(1),
    data.bareLineEnding.reply(),
    rcpt.relayDenied.reply('a@b'),
    rcpt.badSyntax.reply('a@b'),
    rcpt.tooMany.reply(1),
    connect.shuttingDown.reply(),
  ];
  for (const r of all) {
    assert.match(r.enhanced, /^[245]\.\d{1,3}\.\d{1,3}$/);
    assert.equal(r.enhanced[0], String(r.code)[0], `${r.code} ${r.enhanced}`);
  }
});

test('the basic code follows the enhanced code: storage and size are 552/452, the class always matches', () => {
  assert.equal(replyForVerdict(verdict('reject', 'too big', 'content', { enhancedCode: '5.3.4' }), ID).code, 552);
  assert.equal(replyForVerdict(verdict('reject', 'mailbox full', 'relay', { enhancedCode: '5.2.2' }), ID).code, 552);
  assert.equal(replyForVerdict(verdict('reject', 'virus', 'content', { enhancedCode: '5.7.1' }), ID).code, 550);
  assert.equal(replyForVerdict(verdict('reject', 'bad content', 'content', { enhancedCode: '5.6.0' }), ID).code, 550);
  assert.equal(replyForVerdict(verdict('tempfail', 'no space', 'edge', { enhancedCode: '4.3.1' }), ID).code, 452);
  assert.equal(replyForVerdict(verdict('tempfail', 'dns', 'auth', { enhancedCode: '4.4.3' }), ID).code, 451);
  // A demand that names a code of the other class never produces a contradictory reply.
  assert.equal(replyForVerdict(verdict('reject', 'x', 'y', { enhancedCode: '4.7.0' }), ID).code, 451);
  assert.equal(replyForVerdict(verdict('tempfail', 'x', 'y', { enhancedCode: '5.7.1' }), ID).code, 550);
});

test('refusalForVerdict: null for an accepted message; otherwise the verdict reply, reason the deciding check', () => {
  assert.equal(refusalForVerdict(verdict('deliver', 'ok', 'content'), ID), null);
  assert.equal(refusalForVerdict(verdict('quarantine', 'spam', 'content'), ID), null);
  const r = refusalForVerdict(verdict('reject', 'virus found', 'content.clamav', { enhancedCode: '5.7.0' }), ID);
  assert.deepEqual(r, { id: 'verdict.reject', reply: { code: 550, enhanced: '5.7.0', text: `Rejected: virus found (${ID})` }, reason: 'content.clamav', disconnect: false });
  const t = refusalForVerdict(verdict('tempfail', 'dns', 'auth.spf'), ID);
  assert.equal(t?.id, 'verdict.tempfail');
  assert.equal(t?.reason, 'auth.spf');
  assert.equal(t && formatReply(t.reply), `451 4.7.1 Try again later: dns (${ID})`);
});
