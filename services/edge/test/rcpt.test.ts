import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecipient } from '../src/rcpt.js';

const ours = new Set(['example.test']);

function refused(address: string, code: number, enhanced: string, smtputf8 = false): void {
  const r = checkRecipient(address, ours, smtputf8);
  assert.equal(r.ok, false, `${address} must be refused`);
  if (r.ok) return;
  assert.equal(r.reply.code, code, address);
  assert.equal(r.reply.enhanced, enhanced, address);
}

test('a recipient in an accepted domain is accepted, domain matched case-insensitively', () => {
  assert.deepEqual(checkRecipient('user@example.test', ours, false), { ok: true, address: 'user@example.test' });
  assert.deepEqual(checkRecipient('User.Name@EXAMPLE.Test', ours, false), { ok: true, address: 'User.Name@example.test' });
  assert.deepEqual(checkRecipient('user+tag@example.test', ours, false), { ok: true, address: 'user+tag@example.test' });
});

test('other domains are refused with 550 5.7.1 (no open relay)', () => {
  refused('user@other.test', 550, '5.7.1');
  refused('user@sub.example.test', 550, '5.7.1');
  refused('user@example.test.evil', 550, '5.7.1');
});

test('routing tricks in the local part are refused', () => {
  refused('user%other.test@example.test', 553, '5.1.3'); // percent hack
  refused('other.test!user@example.test', 553, '5.1.3'); // bang path
  refused('@example.test:user@other.test', 553, '5.1.3'); // source route
  refused('"user@other.test"@example.test', 553, '5.1.3'); // quoted local part hiding an @
  refused('"user"@example.test', 553, '5.1.3');
  refused('us\\@er@example.test', 553, '5.1.3');
  refused('us er@example.test', 553, '5.1.3');
});

test('malformed addresses are refused', () => {
  refused('user', 553, '5.1.3');
  refused('@example.test', 553, '5.1.3');
  refused('user@', 553, '5.1.3');
  refused('.user@example.test', 553, '5.1.3');
  refused('user.@example.test', 553, '5.1.3');
  refused('us..er@example.test', 553, '5.1.3');
});

test('IP literals and a trailing-dot domain are refused', () => {
  refused('user@[127.0.0.1]', 550, '5.7.1');
  refused('user@[IPv6:::1]', 550, '5.7.1');
  refused('user@example.test.', 550, '5.7.1');
});

test('non-ASCII needs SMTPUTF8', () => {
  refused('jürgen@example.test', 553, '5.1.3', false);
  assert.deepEqual(checkRecipient('jürgen@example.test', ours, true), { ok: true, address: 'jürgen@example.test' });
  refused('user\x7f@example.test', 553, '5.1.3', false);
});
