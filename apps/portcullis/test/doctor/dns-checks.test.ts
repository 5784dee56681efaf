import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '@portcullis/config';
import { createDnsResolver, DnsTempError } from '@portcullis/dns';
import { TEST_DNS, testDnsSkip } from '@portcullis/dns/testing';
import { Registry } from '@portcullis/telemetry';
import { checkDomain } from '../../src/doctor/dns-checks.js';
import { doctorDns } from '../../src/doctor/dns-lookup.js';

/** The test DNS server serves good.test and bad.test (test/infra/dns/zones/); the load balancer is at 192.0.2.10. */
const LB = '192.0.2.10';
const skip = await testDnsSkip();

function dnsAt(server: string, timeoutMs = 1000) {
  const config = parseConfig({ domains: [{ name: 'example.com' }], dns: { servers: [server], timeoutMs, attempts: 1 } });
  return doctorDns(createDnsResolver(config.dns, { registry: new Registry(), env: {} }));
}

let policies: Server;
let policyBase = '';

before(async () => {
  // The MTA-STS policy web server (plain HTTP on loopback: the doctor's fetch is injected; its HTTPS is not tested here).
  policies = createServer((req, res) => {
    if (req.url === '/good.test') return res.end('version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 604800\n');
    res.statusCode = 404;
    res.end();
  }).listen(0, '127.0.0.1');
  await new Promise((r) => policies.once('listening', r));
  policyBase = `http://127.0.0.1:${(policies.address() as AddressInfo).port}`;
});
after(async () => {
  policies.close();
});

const fetchPolicy = async (domain: string) => {
  const res = await fetch(`${policyBase}/${domain}`);
  return res.status === 404 ? null : res.text();
};

test('a domain published as NOTES.txt says passes MX (to the load balancer), SPF, DMARC, DKIM and MTA-STS', { skip }, async () => {
  const findings = await checkDomain(dnsAt(TEST_DNS), 'good.test', { mxHost: 'mx1.good.test', loadBalancer: [LB], dkimSelector: 's2026', fetchMtaStsPolicy: fetchPolicy });
  assert.deepEqual(
    findings.filter((f) => !f.ok),
    [],
  );
  assert.deepEqual(
    findings.map((f) => f.check),
    ['good.test MX', 'good.test SPF', 'good.test DMARC', 'good.test DKIM s2026', 'good.test MTA-STS'],
  );
});

test('every wrong record is reported with the record to publish', { skip }, async () => {
  const findings = await checkDomain(dnsAt(TEST_DNS), 'bad.test', { mxHost: 'mx1.bad.test', loadBalancer: [LB], dkimSelector: 's2026', fetchMtaStsPolicy: fetchPolicy });
  const byCheck = Object.fromEntries(findings.map((f) => [f.check, f]));
  assert.match(byCheck['bad.test MX']!.detail, /points to mail\.elsewhere\.test, not mx1\.bad\.test/);
  assert.match(byCheck['bad.test MX']!.fix!, /bad\.test\. MX 10 mx1\.bad\.test\./);
  assert.match(byCheck['bad.test SPF']!.detail, /2 SPF records/);
  assert.match(byCheck['bad.test DMARC']!.detail, /no valid p= tag/);
  assert.match(byCheck['bad.test DKIM s2026']!.detail, /no DKIM public key/);
  assert.match(byCheck['bad.test MTA-STS']!.detail, /no _mta-sts TXT record/);
  assert.ok(findings.every((f) => !f.ok));
});

test('an MX that resolves elsewhere than the load balancer is wrong', { skip }, async () => {
  const findings = await checkDomain(dnsAt(TEST_DNS), 'good.test', { mxHost: 'mx1.good.test', loadBalancer: ['203.0.113.5'] });
  assert.match(findings[0]!.detail, /resolves to 192\.0\.2\.10, not the load balancer \(203\.0\.113\.5\)/);
});

test('a DNS server that does not answer is an error, never "no record"', async () => {
  // 127.0.0.1:9 (discard): nothing answers there.
  const silent = dnsAt('127.0.0.1:9', 200);
  await assert.rejects(checkDomain(silent, 'good.test', { mxHost: 'mx1.good.test', loadBalancer: [] }), DnsTempError);
});
