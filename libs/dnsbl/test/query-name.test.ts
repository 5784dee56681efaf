import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainQueryName, ipQueryName } from '../src/query-name.js';

test('IPv4 octets are reversed before the zone', () => {
  assert.equal(ipQueryName('192.0.2.99', 'zen.example'), '99.2.0.192.zen.example');
});

test('an IPv4-mapped IPv6 address is asked as IPv4', () => {
  assert.equal(ipQueryName('::ffff:127.0.0.2', 'bl.example'), '2.0.0.127.bl.example');
});

test('IPv6 is 32 reversed nibbles (RFC 5782 2.4)', () => {
  assert.equal(ipQueryName('2001:db8:1:2::3', 'bl.example'), '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example');
  assert.equal(ipQueryName('::1', 'z')!.split('.').length, 33);
});

test('not an address: no query', () => {
  assert.equal(ipQueryName('localhost', 'bl.example'), null);
  assert.equal(ipQueryName('', 'bl.example'), null);
});

test('domains are lower-cased and lose a trailing dot', () => {
  assert.equal(domainQueryName('Example.COM.', 'dbl.example'), 'example.com.dbl.example');
});
