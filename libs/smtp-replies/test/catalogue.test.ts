import { test } from 'node:test';
import assert from 'node:assert/strict';
import { because, catalogue, connect, data, exampleText, formatReply, groups, login, rcpt, refusalError, replyEntry, session, type AnyReplyEntry } from '../src/index.js';

test('ids are unique, kebab-case, and start with the group they sit in', () => {
  const seen = new Set<string>();
  for (const [stage, group] of Object.entries(groups)) {
    for (const e of Object.values(group as Record<string, unknown>)) {
      if (typeof e !== 'object' || e === null || !('id' in e)) continue;
      const entry = e as AnyReplyEntry;
      assert.match(entry.id, /^[a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)*$/, entry.id);
      assert.equal(entry.stage, stage, entry.id);
      assert.ok(entry.id.startsWith(`${stage}.`), entry.id);
      assert.ok(!seen.has(entry.id), `duplicate id ${entry.id}`);
      seen.add(entry.id);
    }
  }
  assert.equal(seen.size, catalogue.length);
  assert.ok(catalogue.length >= 50, `only ${catalogue.length} entries`);
});

test('every code is a valid basic code and its enhanced code has the same class', () => {
  for (const e of catalogue) {
    assert.match(String(e.code), /^[2345][0-5]\d$/, e.id);
    assert.match(e.enhanced, /^[245]\.\d{1,3}\.\d{1,3}$/, e.id);
    assert.equal(e.enhanced[0], String(e.code)[0], `${e.id}: ${e.code} ${e.enhanced}`);
  }
});

test('every entry names the check that sends it; every 421 closes the connection', () => {
  for (const e of catalogue) {
    assert.ok(e.checks.length > 0 && e.checks.every((c) => /^[A-Za-z][\w.]*$/.test(c)), e.id);
    if (e.code === 421) assert.equal(e.disconnect, true, e.id);
    else assert.equal(e.disconnect, false, e.id);
  }
});

test('texts are single lines of printable text, distinct from each other; a text with arguments has an example', () => {
  const texts = new Map<string, string>();
  for (const e of catalogue) {
    assert.equal(typeof e.text === 'function', e.example !== null, `${e.id}: example arguments go with a text function`);
    const t = exampleText(e);
    assert.match(t, /^[\x20-\x7e]+$/, e.id);
    assert.ok(!/^[245]\.\d/.test(t), `${e.id}: the enhanced code is not part of the text`);
    assert.ok(!texts.has(t), `${e.id} and ${texts.get(t)} say the same`);
    texts.set(t, e.id);
  }
});

test('replyEntry finds an entry by id', () => {
  assert.equal(replyEntry('rcpt.relay-denied'), rcpt.relayDenied);
  assert.equal(replyEntry('login.locked-out'), login.lockedOut);
  assert.equal(replyEntry('rcpt.nothing-like-this'), undefined);
});

test('an entry renders its reply with the arguments in the text', () => {
  assert.equal(formatReply(rcpt.relayDenied.reply('x@other.test')), '550 5.7.1 Relay access denied for <x@other.test>');
  assert.equal(formatReply(connect.rate.reply({ ip: '192.0.2.7' }, 30)), '421 4.7.0 Too many connections from [192.0.2.7] (limit 30 per minute), try again later');
  assert.equal(
    formatReply(connect.concurrent.reply({ network: '192.0.2.0/24' }, 4)),
    '421 4.7.0 Too many concurrent connections from your network 192.0.2.0/24 (limit 4), try again later',
  );
  assert.equal(formatReply(connect.dnsbl.reply('192.0.2.9', ['zen.test', 'bl.test'])), '554 5.7.1 Service unavailable; client [192.0.2.9] is listed by zen.test, bl.test');
  assert.equal(connect.dnsbl.reply('192.0.2.9', []).text, 'Service unavailable; client [192.0.2.9] is listed by block lists');
  assert.equal(rcpt.tooLong.reply({ limit: 'local-part', octets: 70, max: 64 }).text, 'Recipient address too long: local-part of 70 octets, at most 64 (RFC 5321 4.5.3.1)');
  assert.equal(session.commandTimeout.reply('data-block', 1250).text, 'Timeout waiting for more message data (1.3 s), closing connection');
  assert.equal(session.commandTimeout.reply('greeting', 30_000).text, 'Timeout waiting for the first command (30 s), closing connection');
});

test('the lockout reply counts whole minutes, at least one', () => {
  assert.equal(login.lockedOut.reply('192.0.2.1', 30).text, 'Too many failed authentication attempts from [192.0.2.1]; blocked, try again in 1 minute');
  assert.equal(login.lockedOut.reply('192.0.2.1', 0).text, 'Too many failed authentication attempts from [192.0.2.1]; blocked, try again in 1 minute');
  assert.equal(login.lockedOut.reply('192.0.2.1', 61).text, 'Too many failed authentication attempts from [192.0.2.1]; blocked, try again in 2 minutes');
});

test('refuse: the reply, the id as reason, disconnect from the entry; because names a finer reason', () => {
  const r = rcpt.relayDenied.refuse('x@other.test');
  assert.deepEqual(r, {
    id: 'rcpt.relay-denied',
    reply: { code: 550, enhanced: '5.7.1', text: 'Relay access denied for <x@other.test>' },
    reason: 'rcpt.relay-denied',
    disconnect: false,
  });
  const rate = because(connect.rate.refuse({ ip: '192.0.2.7' }, 3), 'perIp.connectionsPerMinute');
  assert.equal(rate.reason, 'perIp.connectionsPerMinute');
  assert.equal(rate.id, 'connect.rate');
  assert.equal(rate.disconnect, true);
  assert.equal(session.reclaimed.refuse().disconnect, true);
});

test("refusalError is smtp-server's error: response code, enhanced code first in the message", () => {
  const err = refusalError(data.tooBig.refuse(1024));
  assert.ok(err instanceof Error);
  assert.equal(err.responseCode, 552);
  assert.equal(err.enhanced, '5.3.4');
  assert.equal(err.message, '5.3.4 Message exceeds the size limit of 1024 octets');
});

test('entries are frozen: a caller cannot change what the catalogue says', () => {
  assert.throws(() => {
    (rcpt.relayDenied as { code: number }).code = 250;
  });
  assert.throws(() => {
    (catalogue as AnyReplyEntry[]).push(rcpt.relayDenied);
  });
});
