import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseConfig } from '@portcullis/config';
import { byKind, CHART, helmPath, render, renderText, renderedConfig, valuesFile, type K8sObject } from './helm.js';

type Port = { name: string; containerPort: number };
type Container = { ports: Port[]; volumeMounts: { name: string; mountPath: string }[] };
type Volume = { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } };
type Rule = { ports: { port: number }[]; from?: unknown[] };
const pod = (d: K8sObject) => (d.spec as { template: { spec: { containers: Container[]; volumes: Volume[] } } }).template.spec;
const SERVICES = ['auth', 'content', 'edge', 'relay', 'reputation'];
const policy = (objects: K8sObject[], svc: string) => byKind(objects, 'NetworkPolicy').find((p) => p.metadata.name === `mx-portcullis-${svc}`)!.spec as { ingress: Rule[] };
const rulesFor = (objects: K8sObject[], svc: string, port: number) => policy(objects, svc).ingress.filter((r) => r.ports.some((p) => p.port === port));

const ops = [
  { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mail-ops' } }, podSelector: { matchLabels: { app: 'ops-toolbox' } } },
  { podSelector: { matchLabels: { app: 'portcullis-console' } } },
];
const monitoring = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];

/**
 * NOTES.txt as rendered for these values. `helm install --dry-run=client` wants a cluster here and
 * `helm template` leaves NOTES out, so a copy of the chart renders the same text as a manifest.
 */
function renderNotes(args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-notes-'));
  try {
    cpSync(CHART, dir, { recursive: true, dereference: true });
    writeFileSync(join(dir, 'templates/_notes.tpl'), `{{- define "test.notes" -}}\n${readFileSync(join(CHART, 'templates/NOTES.txt'), 'utf8')}{{- end -}}\n`);
    writeFileSync(join(dir, 'templates/notes.yaml'), 'notes: {{ include "test.notes" . | toJson }}\n');
    const res = spawnSync(helmPath(), ['template', 'mx', dir, '--namespace', 'mail', '--show-only', 'templates/notes.yaml', ...args], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(res.stderr);
    return JSON.parse(res.stdout.slice(res.stdout.indexOf('notes: ') + 7)) as string;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --set-json for each value, so peers arrive exactly as an operator's values file would give them. */
const setJson = (values: Record<string, unknown>) => Object.entries(values).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]);

test('admin disabled (the default): no admin port, Service, policy rule, Secret or config anywhere', () => {
  const text = renderText(['-f', valuesFile('minimal')]);
  assert.ok(!text.includes('8026'), 'port 8026 appears in the rendered chart');
  const objects = render(['-f', valuesFile('minimal')]);
  for (const d of byKind(objects, 'Deployment')) {
    const spec = pod(d);
    assert.deepEqual(
      spec.containers[0]!.ports.filter((p) => p.name === 'admin'),
      [],
      d.metadata.name,
    );
    assert.ok(!spec.volumes.some((v) => v.name === 'admin-token'), d.metadata.name);
  }
  assert.ok(!byKind(objects, 'Service').some((s) => s.metadata.name.endsWith('-admin')));
  assert.ok(!byKind(objects, 'Secret').some((s) => s.metadata.name.endsWith('-admin')));
  assert.equal(parseConfig(renderedConfig(objects)).http.admin.enabled, false);
  // Nobody is given the metrics port by default: only the node (kubelet probes) reaches it.
  for (const svc of SERVICES) assert.deepEqual(rulesFor(objects, svc, 8025), [], svc);
});

test('admin enabled: port 8026 on every pod, reachable exactly from admin.allowFrom; metrics from metricsFrom only', () => {
  const objects = render(['-f', valuesFile('minimal'), '--set', 'admin.enabled=true', ...setJson({ 'admin.allowFrom': ops, 'networkPolicy.metricsFrom': monitoring })]);
  const config = parseConfig(renderedConfig(objects));
  assert.deepEqual(config.http.listen, { host: '0.0.0.0', port: 8025 });
  assert.deepEqual(config.http.admin, { enabled: true, listen: { host: '0.0.0.0', port: 8026 }, tokenFile: '/etc/portcullis/secrets/admin/token' });
  for (const d of byKind(objects, 'Deployment')) {
    const spec = pod(d);
    const c = spec.containers[0]!;
    assert.deepEqual(
      c.ports.filter((p) => p.containerPort === 8025 || p.containerPort === 8026).map((p) => [p.name, p.containerPort]),
      [
        ['http', 8025],
        ['admin', 8026],
      ],
      d.metadata.name,
    );
    // The token file the config names is the Secret mounted as a directory (rotations reach the pod).
    assert.ok(c.volumeMounts.some((m) => m.name === 'admin-token' && m.mountPath === '/etc/portcullis/secrets/admin'));
    assert.deepEqual(spec.volumes.find((v) => v.name === 'admin-token')?.secret, { secretName: 'mx-portcullis-admin', items: [{ key: 'token', path: 'token' }] });
  }
  for (const svc of SERVICES) {
    const admin = rulesFor(objects, svc, 8026);
    assert.equal(admin.length, 1, svc);
    assert.deepEqual(admin[0], { ports: [{ port: 8026, protocol: 'TCP' }], from: ops }, `${svc}: the peers exactly as given`);
    assert.deepEqual(rulesFor(objects, svc, 8025), [{ ports: [{ port: 8025, protocol: 'TCP' }], from: monitoring }], svc);
    const service = byKind(objects, 'Service').find((s) => s.metadata.name === `mx-portcullis-${svc}-admin`)!;
    assert.deepEqual((service.spec as { ports: unknown[] }).ports, [{ name: 'admin', port: 8026, targetPort: 'admin', protocol: 'TCP' }]);
    // The metrics Service (the ServiceMonitor's) never carries the admin port.
    const metrics = byKind(objects, 'Service').find((s) => s.metadata.name === `mx-portcullis-${svc}-metrics`)!;
    assert.deepEqual(
      (metrics.spec as { ports: { port: number }[] }).ports.map((p) => p.port),
      [8025],
    );
  }
  // `portcullis doctor` finds the load balancer as the edge Service without the metrics label.
  const edgeServices = byKind(objects, 'Service').filter((s) => s.metadata.labels?.['app.kubernetes.io/component'] === 'edge' && !s.metadata.labels['portcullis.io/metrics']);
  assert.deepEqual(
    edgeServices.map((s) => s.metadata.name),
    ['mx-portcullis-edge'],
  );
  // The edge still takes SMTP from anywhere, and nothing else from anywhere.
  assert.deepEqual(
    policy(objects, 'edge')
      .ingress.filter((r) => !r.from)
      .map((r) => r.ports.map((p) => p.port)),
    [[2525]],
  );
});

test('admin enabled with no allowFrom: no pod may reach port 8026', () => {
  const objects = render(['-f', valuesFile('minimal'), '--set', 'admin.enabled=true']);
  for (const svc of SERVICES) assert.deepEqual(rulesFor(objects, svc, 8026), [], svc);
  assert.equal(parseConfig(renderedConfig(objects)).http.admin.enabled, true);
});

test('the chart makes the token Secret once with a random token; an existing Secret is used instead', () => {
  const made = (args: string[]) =>
    byKind(render(['-f', valuesFile('minimal'), '--set', 'admin.enabled=true', ...args]), 'Secret').filter((s) => s.metadata.name === 'mx-portcullis-admin');
  const [secret] = made([]);
  const token = Buffer.from((secret!.data as { token: string }).token, 'base64').toString();
  assert.match(token, /^[A-Za-z0-9]{48}$/);
  // Without a cluster (helm template) there is nothing to look up, so each render makes a new one;
  // on `helm upgrade` the lookup keeps the cluster's (apps/portcullis/test/kube/admin-token.test.ts).
  const again = Buffer.from((made([])[0]!.data as { token: string }).token, 'base64').toString();
  assert.notEqual(again, token);

  const existing = render(['-f', valuesFile('existing-secrets')]);
  assert.equal(byKind(existing, 'Secret').length, 0, 'no Secret made');
  for (const d of byKind(existing, 'Deployment')) {
    assert.deepEqual(
      pod(d).volumes.find((v) => v.name === 'admin-token')?.secret,
      { secretName: 'portcullis-admin', items: [{ key: 'admin-token', path: 'token' }] },
      d.metadata.name,
    );
  }
});

test('values: an admin peer is a namespaceSelector and/or podSelector; a ServiceMonitor needs metricsFrom', () => {
  const base = ['-f', valuesFile('minimal'), '--set', 'admin.enabled=true'];
  assert.throws(() => render([...base, ...setJson({ 'admin.allowFrom': [{ ipBlock: { cidr: '0.0.0.0/0' } }] })]), /additional properties 'ipBlock' not allowed/);
  assert.throws(() => render([...base, ...setJson({ 'admin.allowFrom': [{}] })]), /minProperties|minimum properties/i);
  assert.throws(() => render(['-f', valuesFile('minimal'), '--set', 'metrics.serviceMonitor.enabled=true']), /networkPolicy\.metricsFrom/);
  const keda = render(['-f', valuesFile('keda')]);
  const monitor = byKind(keda, 'ServiceMonitor')[0]!.spec as { endpoints: { port: string }[] };
  assert.deepEqual(
    monitor.endpoints.map((e) => e.port),
    ['http'],
  );
  for (const svc of SERVICES) assert.deepEqual(rulesFor(keda, svc, 8025)[0]?.from, monitoring, svc);
});

test('NOTES: how to reach the admin API when it is on, that it is off otherwise', () => {
  const on = renderNotes(['-f', valuesFile('minimal'), '--set', 'admin.enabled=true']);
  assert.match(on, /kubectl -n mail get secret mx-portcullis-admin -o jsonpath='\{\.data\.token\}' \| base64 -d > admin-token/);
  assert.match(on, /port-forward service\/mx-portcullis-relay-admin 8026:8026/);
  assert.match(on, /from no pod \(admin\.allowFrom is empty\)/);
  assert.match(on, /No pod may scrape them: set networkPolicy\.metricsFrom/);
  const off = renderNotes(['-f', valuesFile('minimal')]);
  assert.match(off, /The admin API \(bans, quarantine, trace\) is off: admin\.enabled\./);
  assert.doesNotMatch(off, /8026/);
});
