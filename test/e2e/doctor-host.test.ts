/**
 * `portcullis doctor` on a VM (no Kubernetes): the cluster checks are skipped with a line saying so,
 * and the parts are asked directly: the real Redis, the broker's topics, a mailbox server on loopback
 * (its SMTP greeting), clamd (PING), rspamd (/ping), the certificate files and a service's /readyz.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, configYaml, freePort } from '../support/gateway.js';
import { MailboxSink } from '../support/sink.js';
import { makeCertificate } from '../support/certs.js';
import { CLAMD, RSPAMD } from '../support/scanners.js';
import { DNS_SERVER } from '../support/paths.js';
import { runCli } from '../support/cli-run.js';

/** Run asynchronously: the mailbox server under test lives in this process and must keep answering. */
async function doctor(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORTCULLIS_DNS_SERVERS: DNS_SERVER };
  // As on a VM: no in-cluster service account environment, no kubeconfig.
  delete env.KUBERNETES_SERVICE_HOST;
  delete env.KUBECONFIG;
  const r = await runCli(['doctor', '--no-mta-sts-fetch', ...args], env);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe('portcullis doctor off Kubernetes', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-doctor-host-'));
  const sink = new MailboxSink();
  let relay: GatewayProcess;
  const good = makeCertificate(dir, ['mx.test.portcullis'], 'ec', 'good');
  const other = makeCertificate(dir, ['other.test'], 'ec', 'other');
  const extra = (certs: { certFile: string; keyFile: string }[]) => `tls:
  certificates: [${certs.map((c) => `{ certFile: ${c.certFile}, keyFile: ${c.keyFile} }`).join(', ')}]
content:
  antivirus: { enabled: true, address: "${CLAMD}" }
  antispam: { enabled: true, url: "${RSPAMD}" }
`;

  before(async () => {
    await sink.start();
    relay = new GatewayProcess('doctor-relay', {
      services: ['relay'],
      smtpPort: await freePort(),
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: true,
      maildir: join(dir, 'mail'),
      extra: extra([good]),
    });
    await relay.start();
  });
  after(async () => {
    await relay?.stop();
    await sink.stop().catch(() => undefined);
  });

  it('skips the cluster with a line saying so and passes every check of a healthy install', async () => {
    const r = await doctor(['--config', relay.configPath, '--readyz', `http://127.0.0.1:${relay.options.httpPort}/readyz`]);
    assert.match(
      r.stdout,
      /^kubernetes checks skipped: not in a cluster \(no service account at \/var\/run\/secrets\/kubernetes\.io\/serviceaccount, no --kubeconfig or \$KUBECONFIG\)$/m,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /certificate verify|self[- ]signed certificate in certificate chain|UNABLE_TO_VERIFY|deployments/i);
    for (const line of [
      /^ok {4}redis: answers at redis:\/\/127\.0\.0\.1:\d+/m,
      new RegExp(`^ok {4}downstream 127\\.0\\.0\\.1:${sink.port}: greets: 220 `, 'm'),
      /^ok {4}clamd: PONG from /m,
      /^ok {4}rspamd: pong from /m,
      /^ok {4}certificate .*good\.crt: key matches, \d+ days left, for DNS:mx\.test\.portcullis/m,
      new RegExp(`^ok {4}readyz http://127\\.0\\.0\\.1:${relay.options.httpPort}/readyz: ready`, 'm'),
      /^ok {4}kafka topics: all \d+ exist/m,
    ])
      assert.match(r.stdout, line);
    // The test zones have no MX/SPF for example.test, so the DNS checks may fail; everything else passes.
    const failures = r.stdout.split('\n').filter((l) => l.startsWith('FAIL') && !/^FAIL\s+example\.test/.test(l));
    assert.deepEqual(failures, [], r.stdout);
  });

  it("names what is wrong: a key that is not the certificate's, a mailbox server that is down, Redis and a service that do not answer", async () => {
    const broken = join(dir, 'broken.yaml');
    const downPort = await freePort();
    writeFileSync(
      broken,
      configYaml({
        services: [],
        smtpPort: await freePort(),
        httpPort: await freePort(),
        downstreamPort: downPort,
        distributed: true,
        redis: { url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'doctor:' },
        extra: extra([{ certFile: good.certFile, keyFile: other.keyFile }]),
      }),
    );
    const deadReadyz = `http://127.0.0.1:${await freePort()}/readyz`;
    const r = await doctor(['--config', broken, '--readyz', deadReadyz]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAIL {2}redis: Redis \(state\.redis\.url\) did not answer within 5 s: .*ECONNREFUSED/m);
    assert.match(r.stdout, new RegExp(`^FAIL {2}downstream 127\\.0\\.0\\.1:${downPort}: no SMTP greeting: connect ECONNREFUSED`, 'm'));
    assert.match(r.stdout, /^FAIL {2}certificate .*good\.crt: the key .*other\.key is not this certificate's\n\s+fix: /m);
    assert.match(r.stdout, new RegExp(`^FAIL {2}readyz ${deadReadyz.replace(/[/.]/g, '\\$&')}: no answer: .*ECONNREFUSED`, 'm'));
  });
});
