import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADDRESS_LIMITS, addressTooLong, domainOf, localPartOf, normaliseAddress } from '../src/address.js';

test('limits are counted in octets and name the one broken', () => {
  assert.equal(addressTooLong(`${'a'.repeat(64)}@example.test`), null);
  assert.deepEqual(addressTooLong(`${'é'.repeat(33)}@example.test`), { limit: 'local-part', octets: 66, max: 64 });
  assert.deepEqual(addressTooLong(`a@${'d'.repeat(256)}`), { limit: 'domain', octets: 256, max: 255 });
  assert.deepEqual(addressTooLong(`${'a'.repeat(60)}@${'d'.repeat(195)}`), { limit: 'path', octets: 258, max: 256 });
});

test('an address within the limits is always one file name', () => {
  assert.ok(ADDRESS_LIMITS.pathOctets - 2 <= ADDRESS_LIMITS.fileNameOctets);
});

test('the domain is always lower-cased, the local part only when its domain folds', () => {
  assert.equal(normaliseAddress('Bob@Example.TEST', 'preserve'), 'Bob@example.test');
  assert.equal(normaliseAddress('Bob@Example.TEST', 'lower'), 'bob@example.test');
  assert.equal(normaliseAddress('ÄNNE@MÜNCHEN.test', 'lower'), 'änne@münchen.test');
});

test('domainOf takes the domain after the last @, lower-cased, without a root dot', () => {
  assert.equal(domainOf('User@Example.TEST'), 'example.test');
  assert.equal(domainOf('"a@b"@Example.test.'), 'example.test');
  assert.equal(domainOf('no-at-sign'), '');
  assert.equal(domainOf('user@'), '');
  assert.equal(localPartOf('"a@b"@example.test'), '"a@b"');
  assert.equal(localPartOf('postmaster'), 'postmaster');
});
