/**
 * connect.dnsbl over real SMTP connections to an in-process edge, with the real test DNS server
 * and its list zones (test/infra/dns/zones). Client addresses are presented with the PROXY
 * protocol, which the edge trusts from loopback here, as from a load balancer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { decodeMail, Topics, type MailRecord } from '@portcullis/contract';
import type { MemoryBus } from '@portcullis/bus';
import type { Registry } from '@portcullis/telemetry';
import { testDnsSkip } from '@portcullis/dns/testing';
import { testResolver, TEST_LISTS } from '@portcullis/dnsbl/testing';
import type { Edge } from '../../src/edge.js';
import { startTestEdge } from '../../src/testing.js';

const skip = await testDnsSkip();

/** Opens a connection that claims to come from src, and reads the first reply (greeting or refusal). */
async function from(port: number, src: string): Promise<{ socket: net.Socket; first: string; ms: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const t0 = performance.now();
  const family = net.isIPv6(src) ? 'TCP6' : 'TCP4';
  socket.write(`PROXY ${family} ${src} ${family === 'TCP6' ? '2001:db8::1' : '192.0.2.1'} 40000 25\r\n`);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  return { socket, first: chunk.toString('latin1'), ms: performance.now() - t0 };
}

/** Writes a command and reads its whole reply (up to the line "ddd text"). */
async function exchange(socket: net.Socket, line: string): Promise<string> {
  socket.write(line);
  let reply = '';
  while (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(reply)) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    reply += chunk.toString('latin1');
  }
  return reply;
}

describe('connect-time DNSBL at the edge', { skip, timeout: 60_000 }, () => {
  let edge: Edge;
  let registry: Registry;
  let bus: MemoryBus;
  const accepted: MailRecord[] = [];

  before(async () => {
    const resolver = testResolver();
    registry = resolver.registry;
    ({ edge, bus } = await startTestEdge({
      config: {
        smtp: { mx: { listen: { host: '127.0.0.1', port: 0 }, proxy: { trustedCidrs: ['127.0.0.0/8'] } }, verdictTimeoutMs: 0 },
        flow: { allow: ['198.51.100.0/24'] },
        connect: { dnsbl: { lists: [TEST_LISTS.dnsbl, TEST_LISTS.dnswl], refuseAt: 10, tarpitAt: 5, tarpitMs: 700, timeoutMs: 800, deadlineMs: 1500 } },
      },
      dns: resolver.dns,
      registry,
    }));
    await bus.consume({ group: 'test', topic: Topics.accepted, concurrency: 1, handle: async (rec) => void accepted.push(decodeMail(Topics.accepted, rec.value)) });
  });

  after(async () => {
    await edge.stop(1000);
    await bus.close();
  });

  it('refuses a listed client before the greeting, naming the list (554 5.7.1)', async () => {
    const { socket, first } = await from(edge.address().port, '192.0.2.10');
    assert.match(first, /^554 5\.7\.1 Service unavailable; client \[192\.0\.2\.10\] is listed by dnsbl\.portcullis\.test \(SBL\)/);
    socket.destroy();
  });

  it('refuses a listed IPv6 client (nibble query)', async () => {
    const { socket, first } = await from(edge.address().port, '2001:db8::10');
    assert.match(first, /^554 5\.7\.1 .*\[2001:db8::10\] is listed by dnsbl\.portcullis\.test/);
    socket.destroy();
  });

  it('delays the greeting of a lightly listed client (tarpit)', async () => {
    const { socket, first, ms } = await from(edge.address().port, '192.0.2.12');
    assert.match(first, /^220 /);
    assert.ok(ms >= 650, `greeting after ${ms} ms`);
    socket.destroy();
  });

  it('a DNS failure never refuses; the unknown answer is recorded with the message (stage connect)', async () => {
    const { socket, first } = await from(edge.address().port, '192.0.2.20');
    assert.match(first, /^220 /);
    assert.match(await exchange(socket, 'EHLO client.example\r\n'), /^250/);
    assert.match(await exchange(socket, 'MAIL FROM:<a@sender.example>\r\n'), /^250/);
    assert.match(await exchange(socket, 'RCPT TO:<postmaster@example.test>\r\n'), /^250/);
    assert.match(await exchange(socket, 'DATA\r\n'), /^354/);
    assert.match(await exchange(socket, 'Subject: hi\r\n\r\nhello\r\n.\r\n'), /^250/);
    socket.destroy();
    let rec: MailRecord | undefined;
    for (let i = 0; i < 50 && !rec; i++, await new Promise((r) => setTimeout(r, 20))) rec = accepted.find((r) => r.meta.envelope.client.ip === '192.0.2.20');
    assert.ok(rec, 'the record reached the accepted topic');
    const results = rec.meta.results.filter((r) => r.stage === 'connect');
    assert.deepEqual(
      results.map((r) => [r.check, r.outcome, r.score]),
      [
        ['connect.dnsbl', 'error', 0],
        ['connect.dnsbl', 'none', 0],
      ],
    );
    assert.match(results[0]!.reason, /dnsbl\.portcullis\.test for 192\.0\.2\.20: unknown, DNS (timeout|deadline)/);
  });

  it('an allow list offsets a listing; flow.allow networks are not looked up', async () => {
    const offset = await from(edge.address().port, '192.0.2.31');
    assert.match(offset.first, /^220 /);
    offset.socket.destroy();
    const skipped = async () => (await registry.getSingleMetric('portcullis_edge_dnsbl_decisions_total')!.get()).values.find((v) => v.labels.decision === 'skip')?.value ?? 0;
    const before = await skipped();
    const allowed = await from(edge.address().port, '198.51.100.5');
    assert.match(allowed.first, /^220 /);
    allowed.socket.destroy();
    assert.equal(await skipped(), before + 1);
  });
});
