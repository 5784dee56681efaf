import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientAddress, NetworkList, networkOf, normalizeIp, parseCidr } from '../src/index.js';

test('IPv4-mapped IPv6 clients are IPv4; IPv6 is canonical; what is not an address is null', () => {
  assert.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(normalizeIp('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('example.com'), null);
  assert.equal(clientAddress(''), null);
});

test('the most specific entry wins, across both families, and is named as written canonically', () => {
  const list = new NetworkList(['10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32', '192.0.2.7', '::ffff:198.51.100.0/120']);
  assert.equal(list.match('10.1.2.3'), '10.1.0.0/16');
  assert.equal(list.longestMatch(clientAddress('10.2.0.1')!), 8);
  assert.equal(list.match('::ffff:10.1.9.9'), '10.1.0.0/16');
  assert.equal(list.match('2001:db8:1::5'), '2001:db8::/32');
  assert.equal(list.match('192.0.2.7'), '192.0.2.7/32');
  assert.equal(list.match('198.51.100.44'), '198.51.100.0/24');
  assert.equal(list.match('192.0.2.8'), null);
  assert.equal(list.match('not an ip'), null);
  assert.equal(new NetworkList([]).contains(clientAddress('127.0.0.1')!), false);
});

test('a bad entry stops the start, naming it', () => {
  for (const bad of ['10.0.0.0/33', '10.0/8', 'fe80::1%eth0/64', 'x', '10.0.0.0/']) {
    assert.throws(() => new NetworkList([bad]), /invalid CIDR/, bad);
  }
  assert.deepEqual(parseCidr(' 2001:DB8::/32 ').map(String), ['2001:db8::', '32']);
});

test('networkOf masks to the configured prefix', () => {
  assert.equal(networkOf(clientAddress('192.0.2.77')!, { ipv4: 24, ipv6: 64 }), '192.0.2.0/24');
  assert.equal(networkOf(clientAddress('2001:db8:1:2:3::4')!, { ipv4: 24, ipv6: 64 }), '2001:db8:1:2::/64');
});
