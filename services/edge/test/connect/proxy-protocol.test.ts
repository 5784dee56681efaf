import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { V2_SIGNATURE, normalizeIp, parseCidr, parseProxyHeader, readProxyHeader, type ProxyResult } from '../../src/connect/proxy-protocol.js';
import { crc32c } from '../../src/connect/crc32c.js';
import { createTrustedPeerMatcher, isTrustedPeer, readProxyHeaderIfTrusted, type PeerProxyResult } from '../../src/connect/trusted-peers.js';

// ------------------------------------------------------------------------------------------ helpers

const b = (s: string) => Buffer.from(s, 'latin1');
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const ipv4 = (a: string) => Buffer.from(a.split('.').map(Number));
/** Full (uncompressed) IPv6 text to 16 bytes. */
const ipv6 = (a: string) => Buffer.concat(a.split(':').map((g) => u16(parseInt(g, 16))));
const tlv = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type]), u16(value.length), value]);

/** A v2 header built byte by byte: signature, ver/cmd, fam/proto, length, then the payload. */
function v2(verCmd: number, famProto: number, payload: Buffer, announced = payload.length): Buffer {
  return Buffer.concat([V2_SIGNATURE, Buffer.from([verCmd, famProto]), u16(announced), payload]);
}
const v2Inet = (src: string, dst: string, sport: number, dport: number, extra: Buffer = Buffer.alloc(0)) =>
  v2(0x21, 0x11, Buffer.concat([ipv4(src), ipv4(dst), u16(sport), u16(dport), extra]));
const v2Inet6 = (src: string, dst: string, sport: number, dport: number, extra: Buffer = Buffer.alloc(0)) =>
  v2(0x21, 0x21, Buffer.concat([ipv6(src), ipv6(dst), u16(sport), u16(dport), extra]));

interface Exchange {
  result: PeerProxyResult;
  /** What the socket yielded after the header (until the client's FIN), for valid headers. */
  rest: Buffer;
  elapsedMs: number;
}

/**
 * One real TCP connection on 127.0.0.1: the client writes `chunks` (with `gapMs` between them), then
 * half-closes unless `keepOpen`; the server reads the header and then everything that follows.
 */
async function exchange(
  chunks: Array<Buffer | string>,
  opts: { timeoutMs?: number; gapMs?: number; keepOpen?: boolean; trusted?: string[]; maxV2PayloadBytes?: number } = {},
): Promise<Exchange> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const done = new Promise<Exchange>((resolve) => {
    server.once('connection', (socket) => {
      socket.on('error', () => {});
      const started = Date.now();
      const headerOpts = { timeoutMs: opts.timeoutMs ?? 2000, ...(opts.maxV2PayloadBytes ? { maxV2PayloadBytes: opts.maxV2PayloadBytes } : {}) };
      const reading = opts.trusted ? readProxyHeaderIfTrusted(socket, { ...headerOpts, trusted: opts.trusted }) : readProxyHeader(socket, headerOpts);
      void reading.then((result) => {
        const elapsedMs = Date.now() - started;
        if (result.kind === 'invalid' || result.kind === 'untrusted') {
          socket.destroy();
          resolve({ result, rest: Buffer.alloc(0), elapsedMs });
          return;
        }
        const rest: Buffer[] = [];
        socket.on('data', (d: Buffer) => rest.push(d));
        socket.on('end', () => {
          socket.end();
          resolve({ result, rest: Buffer.concat(rest), elapsedMs });
        });
      });
    });
  });
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  client.on('data', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0 && opts.gapMs) await sleep(opts.gapMs);
    if (client.destroyed) break;
    client.write(chunk);
  }
  if (!opts.keepOpen) client.end();
  const outcome = await done;
  client.destroy();
  server.close();
  return outcome;
}

function assertProxied(result: PeerProxyResult, expected: Omit<Extract<ProxyResult, { kind: 'proxied' }>, 'kind' | 'tlvs'>) {
  assert.equal(result.kind, 'proxied', JSON.stringify(result));
  if (result.kind !== 'proxied') return;
  const { tlvs: _tlvs, kind: _kind, ...rest } = result;
  assert.deepEqual(rest, expected);
}

function assertInvalid(result: PeerProxyResult, reason: RegExp, missing = false) {
  assert.equal(result.kind, 'invalid', JSON.stringify(result));
  if (result.kind !== 'invalid') return;
  assert.match(result.reason, reason);
  assert.equal(result.missing, missing, `missing flag for: ${result.reason}`);
}

const SMTP = 'EHLO client.example\r\n';

// ------------------------------------------------------------------------------------------ v1

test('v1 TCP4: addresses and ports, and the bytes after the header stay in the socket', async () => {
  const { result, rest } = await exchange([`PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n${SMTP}`]);
  assertProxied(result, { version: 1, sourceAddress: '192.0.2.10', sourcePort: 56324, destAddress: '198.51.100.1', destPort: 25 });
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v1 TCP6: addresses normalised (RFC 5952), IPv4-mapped given as IPv4, extreme ports', async () => {
  let { result, rest } = await exchange([`PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 0 65535\r\n`]);
  assertProxied(result, { version: 1, sourceAddress: '2001:db8::1', sourcePort: 0, destAddress: '2001:db8::2', destPort: 65535 });
  assert.equal(rest.length, 0);
  ({ result } = await exchange([`PROXY TCP6 ::ffff:192.0.2.44 ::ffff:c633:6401 1024 587\r\n`]));
  assertProxied(result, { version: 1, sourceAddress: '192.0.2.44', sourcePort: 1024, destAddress: '198.51.100.1', destPort: 587 });
});

test('v1 UNKNOWN, short and long form, is local', async () => {
  let { result, rest } = await exchange([`PROXY UNKNOWN\r\n${SMTP}`]);
  assert.deepEqual(result, { kind: 'local', version: 1 });
  assert.equal(rest.toString('latin1'), SMTP);
  const longest = 'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
  assert.equal(longest.length, 107);
  ({ result, rest } = await exchange([longest + SMTP]));
  assert.deepEqual(result, { kind: 'local', version: 1 });
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v1 header split over many small writes is reassembled', async () => {
  const header = 'PROXY TCP4 203.0.113.7 198.51.100.1 40000 25\r\n';
  const chunks = [...header.match(/.{1,4}/gs)!, SMTP];
  const { result, rest } = await exchange(chunks, { gapMs: 2 });
  assertProxied(result, { version: 1, sourceAddress: '203.0.113.7', sourcePort: 40000, destAddress: '198.51.100.1', destPort: 25 });
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v1 malformed lines are invalid', async () => {
  const cases: Array<[string, RegExp]> = [
    ['PROXY TCP4 192.0.2.010 198.51.100.1 1 25\r\n', /source address/],
    ['PROXY TCP4 192.0.2.1 198.51.100.256 1 25\r\n', /destination address/],
    ['PROXY TCP4 2001:db8::1 198.51.100.1 1 25\r\n', /source address/],
    ['PROXY TCP6 192.0.2.1 2001:db8::1 1 25\r\n', /source address/],
    ['PROXY TCP6 fe80::1%eth0 2001:db8::1 1 25\r\n', /source address/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 65536 25\r\n', /source port/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 1 025\r\n', /destination port/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 -1 25\r\n', /source port/],
    ['PROXY TCP4 192.0.2.1  198.51.100.1 1 25\r\n', /five fields|address/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 1 25 extra\r\n', /five fields/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 1\r\n', /five fields/],
    ['PROXY UDP4 192.0.2.1 198.51.100.1 1 25\r\n', /unknown protocol/],
    ['PROXY tcp4 192.0.2.1 198.51.100.1 1 25\r\n', /unknown protocol/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 1 25\n', /bare LF/],
    ['PROXY TCP4 192.0.2.1 198.51.100.1 1 25\rX\n', /bare CR/],
    ['PROXY TCP4 192.0.2.1\x00 198.51.100.1 1 25\r\n', /non-printable/],
  ];
  for (const [line, reason] of cases) {
    const { result } = await exchange([line + SMTP]);
    assertInvalid(result, reason);
  }
});

test('v1 line without CRLF within 107 bytes is refused at once, not at the deadline', async () => {
  const { result, elapsedMs } = await exchange(['PROXY UNKNOWN ' + 'x'.repeat(200)], { timeoutMs: 3000, keepOpen: true });
  assertInvalid(result, /no CRLF within 107/);
  assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
});

test('truncated v1 header (client closes) is invalid', async () => {
  const { result } = await exchange(['PROXY TCP4 192.0.2.1 198.51.1']);
  assertInvalid(result, /closed after \d+ bytes/);
});

// ------------------------------------------------------------------------------------------ v2

test('v2 PROXY over IPv4, built byte by byte, with the SMTP bytes behind it', async () => {
  const header = v2Inet('203.0.113.9', '198.51.100.1', 51000, 25);
  assert.equal(header.length, 28);
  const { result, rest } = await exchange([Buffer.concat([header, b(SMTP)])]);
  assertProxied(result, { version: 2, sourceAddress: '203.0.113.9', sourcePort: 51000, destAddress: '198.51.100.1', destPort: 25 });
  assert.deepEqual(result.kind === 'proxied' && result.tlvs, []);
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v2 PROXY over IPv6, and an IPv4-mapped IPv6 source given as IPv4', async () => {
  let { result, rest } = await exchange([Buffer.concat([v2Inet6('2001:0db8:0000:0000:0000:0000:0000:00a1', '2001:0db8:0000:0000:0000:0000:0000:0001', 443, 465), b(SMTP)])]);
  assertProxied(result, { version: 2, sourceAddress: '2001:db8::a1', sourcePort: 443, destAddress: '2001:db8::1', destPort: 465 });
  assert.equal(rest.toString('latin1'), SMTP);
  ({ result } = await exchange([v2Inet6('0000:0000:0000:0000:0000:ffff:c000:0207', '2001:0db8:0000:0000:0000:0000:0000:0001', 1, 25)]));
  assertProxied(result, { version: 2, sourceAddress: '192.0.2.7', sourcePort: 1, destAddress: '2001:db8::1', destPort: 25 });
});

test('v2 LOCAL is local, and its announced bytes are skipped whatever the family', async () => {
  let { result, rest } = await exchange([Buffer.concat([v2(0x20, 0x00, Buffer.alloc(0)), b(SMTP)])]);
  assert.deepEqual(result, { kind: 'local', version: 2 });
  assert.equal(rest.toString('latin1'), SMTP);
  // a LOCAL header that still carries an address block (some senders do): skipped, not parsed
  ({ result, rest } = await exchange([Buffer.concat([v2(0x20, 0x11, Buffer.alloc(12, 0xee)), b(SMTP)])]));
  assert.deepEqual(result, { kind: 'local', version: 2 });
  assert.equal(rest.toString('latin1'), SMTP);
  // PROXY with AF_UNSPEC: the spec lets the receiver use the real endpoints
  ({ result } = await exchange([v2(0x21, 0x00, Buffer.alloc(0))]));
  assert.deepEqual(result, { kind: 'local', version: 2 });
});

test('v2 TLVs are skipped (and reported), the bytes after them are intact', async () => {
  const aws = tlv(0xea, Buffer.concat([Buffer.from([0x01]), b('vpce-08d2bf15fac5001c9')]));
  const tlvs = Buffer.concat([tlv(0x04, Buffer.alloc(5)), tlv(0x01, b('smtp')), aws, tlv(0x05, Buffer.alloc(0))]);
  const { result, rest } = await exchange([Buffer.concat([v2Inet('192.0.2.200', '198.51.100.1', 2525, 25, tlvs), b(SMTP)])]);
  assertProxied(result, { version: 2, sourceAddress: '192.0.2.200', sourcePort: 2525, destAddress: '198.51.100.1', destPort: 25 });
  assert.ok(result.kind === 'proxied');
  assert.deepEqual(
    result.tlvs.map((t) => [t.type, t.value.length]),
    [
      [0x04, 5],
      [0x01, 4],
      [0xea, 23],
      [0x05, 0],
    ],
  );
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v2 CRC32c TLV: a correct checksum passes, a wrong one is refused', async () => {
  assert.equal(crc32c(b('123456789')), 0xe3069283);
  const withCrc = v2Inet('192.0.2.1', '198.51.100.1', 1, 25, tlv(0x03, Buffer.alloc(4)));
  const crcAt = withCrc.length - 4;
  withCrc.writeUInt32BE(crc32c(withCrc), crcAt);
  let { result } = await exchange([withCrc]);
  assertProxied(result, { version: 2, sourceAddress: '192.0.2.1', sourcePort: 1, destAddress: '198.51.100.1', destPort: 25 });
  withCrc[crcAt] = withCrc[crcAt]! ^ 0xff;
  ({ result } = await exchange([withCrc]));
  assertInvalid(result, /CRC32c/);
});

test('v2 header split byte by byte is reassembled', async () => {
  const header = v2Inet('203.0.113.77', '198.51.100.1', 60000, 25, tlv(0x04, Buffer.alloc(3)));
  const { result, rest } = await exchange([...[...header].map((x) => Buffer.from([x])), SMTP], { gapMs: 1 });
  assertProxied(result, { version: 2, sourceAddress: '203.0.113.77', sourcePort: 60000, destAddress: '198.51.100.1', destPort: 25 });
  assert.equal(rest.toString('latin1'), SMTP);
});

test('v2 malformed headers are invalid', async () => {
  const addr = Buffer.concat([ipv4('192.0.2.1'), ipv4('198.51.100.1'), u16(1), u16(25)]);
  const cases: Array<[Buffer, RegExp]> = [
    [v2(0x11, 0x11, addr), /version 1/],
    [v2(0x31, 0x11, addr), /version 3/],
    [v2(0x22, 0x11, addr), /unknown command 2/],
    [v2(0x2f, 0x11, addr), /unknown command 15/],
    [v2(0x21, 0x41, addr), /unknown address family 4/],
    [v2(0x21, 0x13, addr), /unknown transport protocol 3/],
    [v2(0x21, 0x12, addr), /only TCP/],
    [v2(0x21, 0x31, Buffer.alloc(216)), /only TCP/],
    [v2(0x21, 0x11, addr.subarray(0, 11)), /too short/],
    [v2(0x21, 0x21, Buffer.alloc(35)), /too short/],
    [v2Inet('192.0.2.1', '198.51.100.1', 1, 25, Buffer.from([0x04, 0x00])), /truncated TLV/],
    [v2Inet('192.0.2.1', '198.51.100.1', 1, 25, Buffer.from([0x04, 0x00, 0x09, 1, 2])), /runs past the header/],
    [v2Inet('192.0.2.1', '198.51.100.1', 1, 25, tlv(0x03, Buffer.alloc(3))), /malformed CRC32c/],
  ];
  for (const [header, reason] of cases) {
    const { result } = await exchange([Buffer.concat([header, b(SMTP)])]);
    assertInvalid(result, reason);
  }
});

test('v2 oversized length is refused from the 16 fixed bytes, without waiting for the rest', async () => {
  const fixed = v2(0x21, 0x11, Buffer.alloc(0), 2000);
  const { result, elapsedMs } = await exchange([fixed], { keepOpen: true, timeoutMs: 3000 });
  assertInvalid(result, /2000 bytes .* more than the 1024 accepted/);
  assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
  // the bound is configurable, and the largest legal header can be read when allowed
  const big = v2Inet('192.0.2.1', '198.51.100.1', 1, 25, tlv(0x04, Buffer.alloc(65535 - 12 - 3)));
  assert.equal(big.length, 16 + 65535);
  const { result: ok, rest } = await exchange([big, SMTP], { maxV2PayloadBytes: 65535 });
  assert.equal(ok.kind, 'proxied');
  assert.equal(rest.toString('latin1'), SMTP);
});

test('truncated v2 header (client closes mid-header, or mid-payload) is invalid', async () => {
  let { result } = await exchange([V2_SIGNATURE.subarray(0, 9)]);
  assertInvalid(result, /closed after 9 bytes/);
  ({ result } = await exchange([v2Inet('192.0.2.1', '198.51.100.1', 1, 25).subarray(0, 20)]));
  assertInvalid(result, /closed after 20 bytes/);
});

// ------------------------------------------------------------------------------------------ garbage and time

test('anything that is not a PROXY header is refused at once, as missing', async () => {
  for (const garbage of [
    SMTP,
    'GET / HTTP/1.1\r\n',
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
    'PROXX TCP4',
    '\r\n\r\n\x00\r\nQUIX\n',
    'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
  ]) {
    const { result, elapsedMs } = await exchange([garbage], { keepOpen: true, timeoutMs: 3000 });
    assertInvalid(result, /not a PROXY protocol header/, true);
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms for ${JSON.stringify(garbage)}`);
  }
});

test('a peer that sends nothing, or a header slowly, runs into the deadline', async () => {
  let { result, elapsedMs } = await exchange([], { keepOpen: true, timeoutMs: 150 });
  assertInvalid(result, /within 150 ms \(0 bytes/, true);
  assert.ok(elapsedMs >= 140 && elapsedMs < 1000, `took ${elapsedMs} ms`);
  ({ result } = await exchange(['PROXY TCP4 '], { keepOpen: true, timeoutMs: 150 }));
  assertInvalid(result, /within 150 ms \(11 bytes/);
  // a byte every 20 ms keeps the connection busy but does not extend the deadline
  const drip = [...'PROXY TCP4 192.0.2.1 198.51.100.1 1 25\r\n'];
  ({ result, elapsedMs } = await exchange(drip, { keepOpen: true, timeoutMs: 200, gapMs: 20 }));
  assertInvalid(result, /within 200 ms/);
  assert.ok(elapsedMs < 600, `took ${elapsedMs} ms`);
});

test('a peer that closes without sending anything is missing', async () => {
  const { result } = await exchange([]);
  assertInvalid(result, /closed after 0 bytes/, true);
});

test('a large pipelined remainder behind the header is preserved byte for byte', async () => {
  const tail = Buffer.alloc(256 * 1024);
  for (let i = 0; i < tail.length; i++) tail[i] = (i * 7 + 3) & 0xff;
  const { result, rest } = await exchange([Buffer.concat([v2Inet('192.0.2.1', '198.51.100.1', 1, 25), tail])]);
  assert.equal(result.kind, 'proxied');
  assert.ok(rest.equals(tail), `got ${rest.length} bytes`);
});

test('parseProxyHeader waits while the bytes so far can still be a header', () => {
  assert.equal(parseProxyHeader(Buffer.alloc(0)), null);
  assert.equal(parseProxyHeader(b('PRO')), null);
  assert.equal(parseProxyHeader(b('PROXY TCP4 1.2.3.4')), null);
  assert.equal(parseProxyHeader(V2_SIGNATURE.subarray(0, 5)), null);
  assert.equal(parseProxyHeader(V2_SIGNATURE), null);
  assert.equal(parseProxyHeader(v2Inet('192.0.2.1', '198.51.100.1', 1, 25).subarray(0, 27)), null);
  const parsed = parseProxyHeader(Buffer.concat([v2Inet('192.0.2.1', '198.51.100.1', 1, 25), b('MORE')]));
  assert.equal(parsed?.length, 28);
  assert.equal(parseProxyHeader(b('PROXY TCP4 192.0.2.1 198.51.100.1 1 25\r\nX'))?.length, 40);
});

// ------------------------------------------------------------------------------------------ trusted peers

test('CIDR matching: IPv4, IPv4-mapped peers, IPv6 /64, bare addresses', () => {
  assert.equal(isTrustedPeer('10.1.2.3', ['10.0.0.0/8']), true);
  assert.equal(isTrustedPeer('11.1.2.3', ['10.0.0.0/8']), false);
  assert.equal(isTrustedPeer('::ffff:127.0.0.1', ['127.0.0.0/8']), true);
  assert.equal(isTrustedPeer('::FFFF:10.20.30.40', ['10.20.30.0/24']), true);
  assert.equal(isTrustedPeer('::ffff:10.20.31.40', ['10.20.30.0/24']), false);
  assert.equal(isTrustedPeer('2001:db8:1:2::5', ['2001:db8:1:2::/64']), true);
  assert.equal(isTrustedPeer('2001:db8:1:2:ffff:ffff:ffff:ffff', ['2001:db8:1:2::/64']), true);
  assert.equal(isTrustedPeer('2001:db8:1:3::1', ['2001:db8:1:2::/64']), false);
  assert.equal(isTrustedPeer('fe80::1%eth0', ['fe80::/64']), true);
  assert.equal(isTrustedPeer('127.0.0.1', ['::1/128', '::/0']), false, 'IPv4 peers do not match IPv6 networks');
  assert.equal(isTrustedPeer('::1', ['0.0.0.0/0']), false, 'IPv6 peers do not match IPv4 networks');
  assert.equal(isTrustedPeer('10.9.8.7', ['::ffff:10.0.0.0/104']), true, 'IPv4-mapped network');
  assert.equal(isTrustedPeer('192.0.2.5', ['192.0.2.5']), true);
  assert.equal(isTrustedPeer('192.0.2.6', ['192.0.2.5']), false);
  assert.equal(isTrustedPeer('203.0.113.1', ['0.0.0.0/0']), true);
  assert.equal(isTrustedPeer('203.0.113.1', []), false);
  assert.equal(isTrustedPeer('not-an-ip', ['0.0.0.0/0']), false);
  assert.equal(isTrustedPeer('', ['0.0.0.0/0']), false);
  assert.equal(createTrustedPeerMatcher(['10.0.0.0/8'])(undefined), false);
});

test('invalid CIDRs are refused loudly', () => {
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', '010.0.0.0/8', '0x0a.0.0.0/8', 'example.com/24', '10.0.0.0/', '10.0.0.0/-1', 'fe80::1%eth0/64', '']) {
    assert.throws(() => parseCidr(bad), /invalid CIDR/, bad);
    assert.throws(() => isTrustedPeer('10.0.0.1', [bad]), /invalid CIDR/, bad);
  }
  assert.deepEqual(parseCidr(' 2001:DB8::/32 ').map(String), ['2001:db8::', '32']);
});

test('normalizeIp', () => {
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('192.0.2.1'), '192.0.2.1');
  assert.equal(normalizeIp('nope'), null);
  assert.equal(normalizeIp(undefined), null);
});

test('readProxyHeaderIfTrusted: an untrusted peer is not read from, a trusted one must send a header', async () => {
  const header = 'PROXY TCP4 192.0.2.10 198.51.100.1 5000 25\r\n';
  let { result } = await exchange([header], { trusted: ['10.0.0.0/8', '2001:db8::/32'] });
  assert.deepEqual(result, { kind: 'untrusted', peerAddress: '127.0.0.1' });
  ({ result } = await exchange([header], { trusted: ['127.0.0.0/8'] }));
  assertProxied(result, { version: 1, sourceAddress: '192.0.2.10', sourcePort: 5000, destAddress: '198.51.100.1', destPort: 25 });
  ({ result } = await exchange([SMTP], { trusted: ['127.0.0.1/32'], keepOpen: true }));
  assertInvalid(result, /not a PROXY protocol header/, true);
});

test('readProxyHeaderIfTrusted: a dual-stack listener reports ::ffff:127.0.0.1, which matches 127.0.0.0/8', async (t) => {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::', resolve);
    });
  } catch {
    t.skip('no IPv6 here');
    return;
  }
  const { port } = server.address() as net.AddressInfo;
  const seen = new Promise<{ peer: string | undefined; result: PeerProxyResult }>((resolve) => {
    server.once('connection', (socket) => {
      void readProxyHeaderIfTrusted(socket, { trusted: ['127.0.0.0/8'], timeoutMs: 1000 }).then((result) => {
        resolve({ peer: socket.remoteAddress, result });
        socket.destroy();
      });
    });
  });
  const client = net.connect(port, '127.0.0.1', () => client.end('PROXY TCP4 192.0.2.10 198.51.100.1 5000 25\r\n'));
  client.on('error', () => {});
  const { peer, result } = await seen;
  server.close();
  assert.equal(peer, '::ffff:127.0.0.1');
  assertProxied(result, { version: 1, sourceAddress: '192.0.2.10', sourcePort: 5000, destAddress: '198.51.100.1', destPort: 25 });
});
