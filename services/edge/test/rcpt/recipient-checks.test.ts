import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADDRESS_LIMITS } from '@portcullis/contract';
import { checkRecipient, type RecipientPolicy } from '../../src/rcpt/recipient-checks.js';

const policy: RecipientPolicy = {
  domains: new Map([
    ['example.test', 'preserve'],
    ['folded.test', 'lower'],
  ]),
  outbound: true,
};
const mx = { authenticated: false, smtputf8: false };
const sub = { authenticated: true, smtputf8: false };

function refused(address: string, code: number, enhanced: string, ctx = mx, p = policy): void {
  const r = checkRecipient(address, ctx, p);
  assert.equal(r.ok, false, `${address} must be refused`);
  if (r.ok) return;
  assert.equal(r.refusal.reply.code, code, address);
  assert.equal(r.refusal.reply.enhanced, enhanced, address);
}
const accepted = (address: string, ctx = mx) => {
  const r = checkRecipient(address, ctx, policy);
  assert.ok(r.ok, `${address} must be accepted: ${r.ok ? '' : r.refusal.reply.text}`);
  return r.address;
};

test('a recipient in an accepted domain is accepted; the domain is stored in lower case', () => {
  assert.equal(accepted('user@example.test'), 'user@example.test');
  assert.equal(accepted('User.Name@EXAMPLE.Test'), 'User.Name@example.test');
  assert.equal(accepted('user+tag@example.test'), 'user+tag@example.test');
});

test('a domain that folds local parts stores one form of each mailbox', () => {
  assert.equal(accepted('Bob@Folded.TEST'), 'bob@folded.test');
  assert.equal(accepted('BOB@folded.test'), 'bob@folded.test');
  assert.equal(accepted('ÄNNE@folded.test', { authenticated: false, smtputf8: true }), 'änne@folded.test');
});

test('other domains are refused with 550 5.7.1 (no open relay)', () => {
  refused('user@other.test', 550, '5.7.1');
  refused('user@sub.example.test', 550, '5.7.1');
  refused('user@example.test.evil', 550, '5.7.1');
});

test('routing tricks in the local part are refused, on every listener and with or without AUTH', () => {
  for (const ctx of [mx, sub]) {
    refused('user%other.test@example.test', 553, '5.1.3', ctx); // percent hack
    refused('other.test!user@example.test', 553, '5.1.3', ctx); // bang path
    refused('@example.test:user@other.test', 553, '5.1.3', ctx); // source route
    refused('"user@other.test"@example.test', 553, '5.1.3', ctx); // quoted local part hiding an @
    refused('"user"@example.test', 553, '5.1.3', ctx);
    refused('us\\@er@example.test', 553, '5.1.3', ctx);
    refused('us er@example.test', 553, '5.1.3', ctx);
    refused('USER%other.test@EXAMPLE.TEST', 553, '5.1.3', ctx);
  }
});

test('authenticated users reach other domains only through relay.outbound, written as domains', () => {
  assert.equal(accepted('Someone@Other.TEST', sub), 'Someone@other.test');
  // A foreign local part is the foreign server's to read.
  assert.equal(accepted('"quoted"@other.test', sub), '"quoted"@other.test');
  refused('user@other.test', 550, '5.7.1', sub, { ...policy, outbound: false });
  // A second spelling of our domain would go out and come back in, past the rules above.
  refused('user%other.test@example.test.', 553, '5.1.3', sub);
});

test('malformed addresses are refused', () => {
  refused('user', 553, '5.1.3');
  refused('@example.test', 553, '5.1.3');
  refused('user@', 553, '5.1.3');
  refused('.user@example.test', 553, '5.1.3');
  refused('user.@example.test', 553, '5.1.3');
  refused('us..er@example.test', 553, '5.1.3');
});

test('IP literals and a trailing-dot domain are refused without AUTH', () => {
  refused('user@[127.0.0.1]', 550, '5.7.1');
  refused('user@[IPv6:::1]', 550, '5.7.1');
  refused('user@example.test.', 550, '5.7.1');
});

test('non-ASCII needs SMTPUTF8', () => {
  refused('jürgen@example.test', 553, '5.1.3');
  assert.equal(accepted('jürgen@example.test', { authenticated: false, smtputf8: true }), 'jürgen@example.test');
  refused('user\x7f@example.test', 553, '5.1.3');
});

test('what cannot be stored is refused at RCPT: RFC 5321 limits counted in octets (501 5.1.3)', () => {
  const utf8 = { authenticated: false, smtputf8: true };
  assert.equal(ADDRESS_LIMITS.pathOctets - 2 <= ADDRESS_LIMITS.fileNameOctets, true, 'an address within the limits is one file name');
  accepted(`${'a'.repeat(64)}@example.test`);
  refused(`${'a'.repeat(65)}@example.test`, 501, '5.1.3');
  // 40 characters, 80 octets: within the limit if counted in characters, not in octets.
  refused(`${'ü'.repeat(40)}@example.test`, 501, '5.1.3', utf8);
  accepted(`${'ü'.repeat(32)}@example.test`, utf8);
  // Lower-casing can lengthen: U+0130 (2 octets) folds to i + U+0307 (3 octets).
  refused(`${'\u0130'.repeat(30)}@folded.test`, 501, '5.1.3', utf8);
  // The path: 256 octets with < and >, so 254 for the address (authenticated, to another domain).
  const domain = (n: number) => `${'d'.repeat(n - 5)}.test`;
  accepted(`${'a'.repeat(64)}@${domain(254 - 65)}`, sub);
  refused(`${'a'.repeat(64)}@${domain(255 - 65)}`, 501, '5.1.3', sub);
  const r = checkRecipient(`${'a'.repeat(65)}@example.test`, mx, policy);
  assert.ok(!r.ok && /local-part of 65 octets, at most 64/.test(r.refusal.reply.text), 'the reply names the limit');
});
