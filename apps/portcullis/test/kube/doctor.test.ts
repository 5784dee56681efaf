import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@portcullis/config';
import { createLogger } from '@portcullis/telemetry';
import { createBus, topicSpecs } from '../../src/runtime.js';
import { renderText, ROOT, valuesFile } from '../chart/helm.js';
import { TEST_DNS } from '@portcullis/dns/testing';

/** The load balancer good.test's MX resolves to (test/infra/dns/zones/good.test.zone). */
const LB = '192.0.2.10';
import { adminConfig, apply, ensureNamespace, installCrds, noApiServer, serviceAccountToken, yamlObjects } from './cluster.js';
import { RawKube } from './raw-apply.js';

const KAFKA = process.env.PORTCULLIS_TEST_KAFKA;
const skip = noApiServer || (!KAFKA ? 'PORTCULLIS_TEST_KAFKA is not set (scripts/test.sh sets it)' : false);
const MAIN = join(ROOT, 'apps/portcullis/dist/src/main.js');
let dir = '';
let ns = '';

function doctor(): { code: number | null; out: string } {
  const res = spawnSync(
    process.execPath,
    [
      MAIN,
      'doctor',
      '--config',
      join(dir, 'portcullis.yaml'),
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--namespace',
      ns,
      '--release',
      'mx',
      '--dkim-selector',
      's2026',
      '--dns-server',
      TEST_DNS,
      '--no-mta-sts-fetch',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { code: res.status, out: res.stdout + res.stderr };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  const admin = adminConfig();
  await installCrds(admin);
  ns = await ensureNamespace(admin, `doctor-${Date.now()}`);
  const objects = yamlObjects(
    renderText([
      '-f',
      valuesFile('minimal'),
      '--namespace',
      ns,
      '--set',
      'hostname=mx1.good.test',
      '--set-json',
      'domains=[{"name":"good.test","downstream":{"host":"mail.internal.good.test"}}]',
    ]),
  ).filter((o) => o.kind !== 'Pod');
  for (const o of objects) assert.equal(await apply(admin, o, { namespace: ns }), null);
  // The doctor runs as the chart's doctor service account (its read-only Role), not as admin.
  const token = await serviceAccountToken(admin, ns, 'mx-portcullis-doctor');
  const cluster = admin.getCurrentCluster()!;
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'doctor',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
      users: [{ name: 'doctor', user: { token } }],
      contexts: [{ name: 'doctor', context: { cluster: 'test', user: 'doctor', namespace: ns } }],
    }),
  );
  // The config the doctor reads: the release's, with the test broker.
  writeFileSync(
    join(dir, 'portcullis.yaml'),
    JSON.stringify({
      hostname: 'mx1.good.test',
      domains: [{ name: 'good.test' }],
      bus: { kind: 'kafka', kafka: { brokers: KAFKA!.split(','), partitions: 1, replicationFactor: 1 } },
      state: { kind: 'redis', redis: { url: 'redis://127.0.0.1:1' } },
    }),
  );
});
after(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * This API server runs no controllers (no deployment controller, no cert-manager, no cloud load
 * balancer), so the test writes the status they would write, through the status subresources.
 */
async function simulateControllers(certificateDaysLeft: number): Promise<void> {
  const raw = new RawKube(adminConfig());
  const patch = async (path: string, body: unknown) => {
    const res = await raw.call('PATCH', path, JSON.stringify(body), 'application/merge-patch+json');
    assert.ok(res.status < 300, `${path}: ${JSON.stringify(res.json)}`);
  };
  for (const svc of ['edge', 'auth', 'reputation', 'content', 'relay']) {
    await patch(`/apis/apps/v1/namespaces/${ns}/deployments/mx-portcullis-${svc}/status`, {
      status: {
        replicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        updatedReplicas: 2,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
      },
    });
  }
  const notAfter = new Date(Date.now() + certificateDaysLeft * 86_400_000 + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await patch(`/apis/cert-manager.io/v1/namespaces/${ns}/certificates/mx-portcullis/status`, {
    status: { notAfter, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' }] },
  });
  await patch(`/api/v1/namespaces/${ns}/services/mx-portcullis-edge/status`, { status: { loadBalancer: { ingress: [{ ip: LB }] } } });
}

test('portcullis doctor against a real API server, Kafka and DNS: reports what is wrong, then passes once it is right', { skip }, async () => {
  const first = doctor();
  assert.equal(first.code, 1, first.out);
  assert.match(first.out, /FAIL  certificate mx-portcullis: not Ready \(no status yet\)/);
  assert.match(first.out, /FAIL  deployment mx-portcullis-edge: 0\/1 available/);
  assert.match(first.out, /FAIL  load balancer: service mx-portcullis-edge has no external address yet/);
  assert.match(first.out, /ok    good\.test SPF: v=spf1 mx -all/);
  assert.match(first.out, /fix: kubectl -n doctor-\d+ describe certificate mx-portcullis/);

  await simulateControllers(60);
  const config = parseConfig({ domains: [{ name: 'good.test' }], bus: { kind: 'kafka', kafka: { brokers: KAFKA!.split(','), partitions: 1, replicationFactor: 1 } } });
  const bus = createBus(config, createLogger({ level: 'silent', service: 'test' }));
  await bus.ensureTopics(topicSpecs(config));
  await bus.close();
  const second = doctor();
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, /ok    good\.test MX: mx1\.good\.test -> 192\.0\.2\.10/);
  assert.match(second.out, new RegExp(`ok    kafka topics: all ${topicSpecs(parseConfig({ domains: [{ name: 'good.test' }] })).length} exist`));
  assert.match(second.out, /all \d+ checks passed/);

  await simulateControllers(3);
  const third = doctor();
  assert.equal(third.code, 1, third.out);
  assert.match(third.out, /FAIL  certificate mx-portcullis: expires in 3 days/);
});
