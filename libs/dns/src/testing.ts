import dgram from 'node:dgram';
import packet from 'dns-packet';
import { parseServer, type DnsServer } from './servers.js';

/**
 * For tests in any package that need the test DNS server (test/infra/dns.sh;
 * `@portcullis/dns/testing`, never imported by service code).
 */
export const TEST_DNS = process.env.PORTCULLIS_TEST_DNS || `127.0.0.1:${15353 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET || 0)}`;

export function testDnsServer(): DnsServer {
  return parseServer(TEST_DNS);
}

/** True when the server answers a query for dns.test within a second. */
export function probe(server: DnsServer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on('error', () => done(false));
    socket.on('message', () => done(true));
    socket.send(packet.encode({ type: 'query', id: 1, questions: [{ type: 'SOA', name: 'dns.test' }] }), server.port, server.host);
  });
}

/**
 * false, or why tests against the test DNS server are skipped: without
 * PORTCULLIS_TEST_DNS and nothing at the default address (`make test-unit`)
 * they skip; with it set (`make test`), an unreachable server fails them.
 */
export async function testDnsSkip(): Promise<string | false> {
  if (process.env.PORTCULLIS_TEST_DNS) return false;
  return (await probe(testDnsServer())) ? false : `no DNS server at ${TEST_DNS} (set PORTCULLIS_TEST_DNS or run make test)`;
}
