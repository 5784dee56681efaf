import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '@portcullis/config';
import { topicSpecs } from '../../src/runtime.js';
import { byKind, lint, render, renderedConfig, valuesFile, VALUES_SETS, type K8sObject } from './helm.js';

type Container = { name: string; securityContext: Record<string, unknown>; volumeMounts: { name: string; subPath?: string; mountPath: string }[]; [k: string]: unknown };
type PodSpec = { containers: Container[]; securityContext: Record<string, unknown>; volumes: { name: string; secret?: { secretName: string } }[]; [k: string]: unknown };
const podSpec = (d: K8sObject) => (d.spec as { template: { spec: PodSpec } }).template.spec;

for (const set of VALUES_SETS) {
  test(`${set}: helm lint passes and the ConfigMap is a config the gateway's own loader accepts`, () => {
    assert.match(lint(set), /0 chart\(s\) failed/);
    const objects = render(['-f', valuesFile(set)]);
    const config = parseConfig(renderedConfig(objects), `${set} ConfigMap`);
    assert.equal(config.bus.kind, 'kafka');
    assert.equal(config.state.kind, 'redis');
    assert.equal(config.http.listen.host, '0.0.0.0');
  });

  test(`${set}: every workload runs restricted, probed, without subPath mounts`, () => {
    const objects = render(['-f', valuesFile(set)]);
    const deployments = byKind(objects, 'Deployment');
    assert.deepEqual(
      deployments.map((d) => d.metadata.name).sort(),
      ['auth', 'content', 'edge', 'relay', 'reputation'].map((s) => `mx-portcullis-${s}`),
    );
    for (const d of deployments) {
      const spec = podSpec(d);
      assert.equal(spec.securityContext.runAsNonRoot, true, d.metadata.name);
      assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      for (const c of spec.containers) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
        assert.deepEqual((c.readinessProbe as { httpGet: unknown }).httpGet, { path: '/readyz', port: 'http' });
        assert.deepEqual((c.livenessProbe as { httpGet: unknown }).httpGet, { path: '/healthz', port: 'http' });
        assert.ok(
          c.volumeMounts.every((m) => !m.subPath),
          `${d.metadata.name} mounts with subPath`,
        );
      }
    }
    // Never an HPA and a KEDA ScaledObject on one workload.
    const hpa = byKind(objects, 'HorizontalPodAutoscaler').map((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
    const keda = byKind(objects, 'ScaledObject').map((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
    assert.deepEqual(
      hpa.filter((n) => keda.includes(n)),
      [],
    );
    assert.equal(byKind(objects, 'PodDisruptionBudget').length, 5);
  });
}

test('the edge mounts the certificate Secret as a directory, and the config points at its files', () => {
  const objects = render(['-f', valuesFile('minimal')]);
  const cert = byKind(objects, 'Certificate')[0]!;
  const secretName = (cert.spec as { secretName: string }).secretName;
  const edge = podSpec(byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith('-edge'))!);
  assert.equal(edge.volumes.find((v) => v.name === 'tls')?.secret?.secretName, secretName);
  assert.deepEqual(
    edge.containers[0]!.volumeMounts.find((m) => m.name === 'tls'),
    { name: 'tls', mountPath: '/etc/portcullis/tls', readOnly: true },
  );
  const config = parseConfig(renderedConfig(objects));
  assert.deepEqual(config.tls.certificates, [{ certFile: '/etc/portcullis/tls/tls.crt', keyFile: '/etc/portcullis/tls/tls.key' }]);
  assert.deepEqual((cert.spec as { dnsNames: string[] }).dnsNames, ['mx1.example.com']);
});

test('client IP: local keeps externalTrafficPolicy Local; PROXY v2 trusts only the load balancer CIDRs', () => {
  const edgeService = (o: K8sObject[]) => o.find((x) => x.kind === 'Service' && x.metadata.name === 'mx-portcullis-edge')!.spec as Record<string, unknown>;
  const local = render(['-f', valuesFile('minimal')]);
  assert.equal(edgeService(local).externalTrafficPolicy, 'Local');
  assert.deepEqual(
    (edgeService(local).ports as { port: number }[]).map((p) => p.port),
    [25],
  );
  const proxy = render(['-f', valuesFile('proxy-v2')]);
  const spec = edgeService(proxy);
  assert.equal(spec.type, 'LoadBalancer');
  assert.deepEqual(
    (spec.ports as { port: number; targetPort: string }[]).map((p) => [p.port, p.targetPort]),
    [
      [25, 'smtp'],
      [587, 'submission'],
      [465, 'submissions'],
    ],
  );
  const config = parseConfig(renderedConfig(proxy));
  assert.deepEqual(config.smtp.mx.proxy?.trustedCidrs, ['10.0.0.0/16']);
  assert.equal(config.smtp.submissions.proxy?.required, true);
  assert.throws(() => render(['-f', valuesFile('minimal'), '--set', 'edge.clientIp.mode=proxy-v1']), /trustedCidrs is required/);
});

test('KEDA: consumers scale on lag, partitions allow the largest replica count', () => {
  const objects = render(['-f', valuesFile('keda')]);
  const scaled = byKind(objects, 'ScaledObject');
  assert.deepEqual(scaled.map((s) => s.metadata.name).sort(), ['mx-portcullis-content', 'mx-portcullis-relay']);
  const relay = scaled.find((s) => s.metadata.name.endsWith('relay'))!.spec as { triggers: { metadata: Record<string, string> }[] };
  assert.deepEqual(
    relay.triggers.map((t) => [t.metadata.topic, t.metadata.consumerGroup]),
    [
      ['portcullis.mail.decided.v1', 'portcullis-relay'],
      ['portcullis.mail.retry.v1', 'portcullis-relay-retry'],
    ],
  );
  // content may run 24 replicas: every topic gets at least 24 partitions.
  assert.equal(parseConfig(renderedConfig(objects)).bus.kafka?.partitions, 24);
  const scaledDeploy = byKind(objects, 'Deployment').find((d) => d.metadata.name.endsWith('-content'))!;
  assert.equal((scaledDeploy.spec as { replicas?: number }).replicas, undefined, 'the autoscaler owns replicas');
  assert.throws(() => render(['-f', valuesFile('keda'), '--set', 'services.edge.autoscaling.kind=keda']), /values don't meet the specifications of the schema/);
});

test('Strimzi topics: the same names, sizes and retention the services would create', () => {
  const objects = render(['-f', valuesFile('strimzi')]);
  const config = parseConfig(renderedConfig(objects));
  assert.equal(config.bus.kafka?.createTopics, false);
  const topics = byKind(objects, 'KafkaTopic').map((t) => t.spec as { topicName: string; partitions: number; config: Record<string, number> });
  const specs = topicSpecs(config);
  assert.deepEqual(topics.map((t) => t.topicName).sort(), specs.map((s) => s.name).sort());
  for (const s of specs) {
    const t = topics.find((x) => x.topicName === s.name)!;
    assert.equal(t.config['max.message.bytes'], s.maxRecordBytes, s.name);
    assert.equal(t.config['retention.ms'], s.retentionMs, s.name);
    assert.equal(t.partitions, config.bus.kafka?.partitions);
  }
  // Retention follows the config a chart user passes through: the maximum age and the quarantine period.
  const longer = render(['-f', valuesFile('strimzi'), '--set', 'config.relay.maxAgeSeconds=864000', '--set', 'config.quarantine.retentionDays=45']);
  const longerSpecs = topicSpecs(parseConfig(renderedConfig(longer)));
  for (const t of byKind(longer, 'KafkaTopic').map((o) => o.spec as { topicName: string; config: Record<string, number> })) {
    assert.equal(t.config['retention.ms'], longerSpecs.find((x) => x.name === t.topicName)!.retentionMs, t.topicName);
  }
});

test('secrets: existing Secret names are used and no Secret is made; values make Secrets', () => {
  const existing = render(['-f', valuesFile('existing-secrets')]);
  assert.equal(byKind(existing, 'Secret').length, 0);
  assert.equal(byKind(existing, 'Certificate').length, 0);
  const specs = byKind(existing, 'Deployment').map((d) => [d.metadata.name, podSpec(d)] as const);
  const secretOf = (svc: string, vol: string) => specs.find(([n]) => n.endsWith(svc))![1].volumes.find((v) => v.name === vol)?.secret?.secretName;
  assert.equal(secretOf('edge', 'tls'), 'mx-example-com-tls');
  assert.equal(secretOf('edge', 'users'), 'portcullis-users');
  assert.equal(secretOf('auth', 'kafka-password'), 'kafka-portcullis');
  assert.equal(secretOf('relay', 'redis-password'), 'redis-auth');
  assert.equal(secretOf('relay', 'extra-dkim'), 'portcullis-dkim');
  assert.equal(secretOf('edge', 'extra-dkim'), undefined);
  const made = byKind(render(['-f', valuesFile('proxy-v2')]), 'Secret')
    .map((s) => s.metadata.name)
    .sort();
  assert.deepEqual(made, ['mx-portcullis-kafka', 'mx-portcullis-redis']);
});

test('network policies: default deny; each service reaches only what it needs', () => {
  const objects = render(['-f', valuesFile('minimal')]);
  const policies = byKind(objects, 'NetworkPolicy');
  const deny = policies.find((p) => p.metadata.name.endsWith('default-deny'))!.spec as Record<string, unknown>;
  assert.deepEqual(deny.policyTypes, ['Ingress', 'Egress']);
  assert.equal(deny.ingress, undefined);
  const ports = (svc: string, dir: 'ingress' | 'egress') =>
    ((policies.find((p) => p.metadata.name === `mx-portcullis-${svc}`)!.spec as Record<string, { ports: { port: number }[] }[]>)[dir] ?? []).flatMap((r) =>
      r.ports.map((p) => p.port),
    );
  assert.ok(ports('edge', 'ingress').includes(2525));
  assert.ok(!ports('auth', 'ingress').includes(2525));
  assert.ok(ports('content', 'egress').includes(3310), 'content reaches clamd');
  assert.ok(!ports('auth', 'egress').includes(3310), 'auth does not');
  assert.ok(ports('relay', 'egress').includes(25) && !ports('auth', 'egress').includes(25));
  assert.ok(ports('relay', 'egress').includes(6443) && !ports('edge', 'egress').includes(6443));
});

test('values: an unknown key is refused; the config passthrough reaches the gateway and its schema', () => {
  assert.throws(() => render(['-f', valuesFile('minimal'), '--set', 'replicas=3']), /additional properties 'replicas' not allowed/);
  const objects = render(['-f', valuesFile('minimal'), '--set', 'config.stages.concurrency=7']);
  assert.equal(parseConfig(renderedConfig(objects)).stages.concurrency, 7);
  const bad = render(['-f', valuesFile('minimal'), '--set', 'config.smtp.maxRecipient=5']);
  assert.throws(
    () => parseConfig(renderedConfig(bad), 'ConfigMap'),
    (e: Error) => e instanceof ConfigError && /smtp\.maxRecipient: unknown key/.test(e.message),
  );
  assert.throws(() => render(['--set', 'hostname=mx.example.com']), /domains is required/);
});
