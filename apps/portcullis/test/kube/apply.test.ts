import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { CHART, helmPath, renderText, ROOT, valuesFile, VALUES_SETS } from '../chart/helm.js';
import { adminConfig, apply, ensureNamespace, installCrds, noApiServer, yamlObjects } from './cluster.js';
import { parseConfig } from '@portcullis/config';
import { topicSpecs } from '../../src/runtime.js';

/** Strimzi publishes its CRDs in no registry reachable here, so KafkaTopic resources cannot be validated. */
const NO_CRD = new Set(['KafkaTopic']);

async function dryRunAll(objects: KubernetesObject[], namespace: string): Promise<string[]> {
  const kc = adminConfig();
  const failures: string[] = [];
  // Pods are admitted only when their service account exists, and a dry run creates none.
  for (const sa of objects.filter((x) => x.kind === 'ServiceAccount')) {
    const failure = await apply(kc, sa, { namespace });
    if (failure) failures.push(failure);
  }
  for (const o of objects.filter((x) => !NO_CRD.has(x.kind!))) {
    const failure = await apply(kc, o, { namespace, dryRun: true });
    if (failure) failures.push(failure);
  }
  return failures;
}

before(async () => {
  if (noApiServer) return;
  const crds = await installCrds(adminConfig());
  assert.ok(crds.includes('certificates.cert-manager.io') && crds.includes('scaledobjects.keda.sh') && crds.includes('servicemonitors.monitoring.coreos.com'));
  // The namespace as manifests/namespace.yaml makes it: Pod Security "restricted" enforced.
  const ns = yamlObjects(readFileSync(join(ROOT, 'manifests/namespace.yaml'), 'utf8'))[0]!;
  assert.equal(await apply(adminConfig(), ns), null);
});

for (const set of VALUES_SETS) {
  test(`${set}: the rendered chart passes a server-side dry-run apply on a real API server (with helm test hooks)`, { skip: noApiServer }, async () => {
    const objects = yamlObjects(renderText(['-f', valuesFile(set)]));
    assert.deepEqual(await dryRunAll(objects, 'mail'), []);
    if (set === 'strimzi') assert.equal(objects.filter((o) => o.kind === 'KafkaTopic').length, topicSpecs(parseConfig({ domains: [{ name: 'example.com' }] })).length);
  });
}

test('the API server really validates: an unknown field, a bad Certificate and a root pod are refused', { skip: noApiServer }, async () => {
  const objects = yamlObjects(renderText(['-f', valuesFile('minimal')]));
  const deployment = structuredClone(objects.find((o) => o.kind === 'Deployment')!) as KubernetesObject & {
    spec: { template: { spec: { containers: Record<string, unknown>[] } } };
  };
  deployment.spec.template.spec.containers[0]!.imagePullPolicyy = 'Always';
  assert.match((await dryRunAll([deployment], 'mail'))[0] ?? '', /imagePullPolicyy|not declared in schema/);
  const certificate = structuredClone(objects.find((o) => o.kind === 'Certificate')!) as KubernetesObject & { spec: Record<string, unknown> };
  certificate.spec.privateKey = { algorithm: 'DSA' };
  assert.match((await dryRunAll([certificate], 'mail'))[0] ?? '', /algorithm/);
  const pod = structuredClone(objects.find((o) => o.kind === 'Pod')!) as KubernetesObject & { spec: { securityContext: Record<string, unknown> } };
  pod.spec.securityContext = {};
  (pod.spec as unknown as { containers: { securityContext: unknown }[] }).containers[0]!.securityContext = {};
  assert.match((await dryRunAll([pod], 'mail'))[0] ?? '', /violates PodSecurity "restricted/);
});

test('manifests/: the plain YAML, the namespace and the ClusterIssuers apply on the real API server', { skip: noApiServer }, async () => {
  const files = ['portcullis.yaml', 'cluster-issuers.yaml', 'namespace.yaml'];
  for (const f of files) {
    const objects = yamlObjects(readFileSync(join(ROOT, 'manifests', f), 'utf8'));
    assert.ok(objects.length > 0, f);
    assert.deepEqual(await dryRunAll(objects, 'mail'), [], f);
  }
});

test('helm install against the API server prints the DNS records for every domain (NOTES.txt)', { skip: noApiServer }, async () => {
  await ensureNamespace(adminConfig(), 'notes');
  const res = spawnSync(
    helmPath(),
    [
      'install',
      'mx',
      CHART,
      '--namespace',
      'notes',
      '--dry-run=server',
      '--kubeconfig',
      process.env.PORTCULLIS_TEST_KUBECONFIG!,
      '-f',
      valuesFile('proxy-v2'),
      '--set',
      'dnsRecords.dkimSelector=s2026',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(res.status, 0, res.stderr);
  const notes = res.stdout.slice(res.stdout.indexOf('NOTES:'));
  for (const d of ['example.com', 'example.org']) {
    assert.ok(notes.includes(`${d}.  MX  10 mx1.example.com.`), notes);
    assert.ok(notes.includes(`${d}.  TXT "v=spf1 mx -all"`));
    assert.ok(notes.includes(`_dmarc.${d}.  TXT "v=DMARC1; p=quarantine"`));
    assert.ok(notes.includes(`s2026._domainkey.${d}.`));
    assert.ok(notes.includes(`_mta-sts.${d}.  TXT "v=STSv1;`));
  }
  assert.match(notes, /PROXY protocol on at the load balancer\s+\(proxy-v2\)/);
});
