import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { KubernetesObject } from '@kubernetes/client-node';
import { CHART, helmPath, valuesFile } from '../chart/helm.js';
import { adminConfig, apply, ensureNamespace, KUBECONFIG, noApiServer, yamlObjects } from './cluster.js';

/** The admin token Secret as helm renders it with access to the cluster (lookup), as `helm upgrade` does. */
function renderedToken(namespace: string): string {
  const res = spawnSync(
    helmPath(),
    [
      'template',
      'mx',
      CHART,
      '--namespace',
      namespace,
      '--dry-run=server',
      '--kubeconfig',
      KUBECONFIG!,
      '-f',
      valuesFile('minimal'),
      '--set',
      'admin.enabled=true',
      '--show-only',
      'templates/admin-token.yaml',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(res.status, 0, res.stderr);
  const secret = yamlObjects(res.stdout)[0] as unknown as { metadata: { name: string }; data: { token: string } };
  assert.equal(secret.metadata.name, 'mx-portcullis-admin');
  return secret.data.token;
}

test('the admin token Secret is made once: with the Secret in the cluster, an upgrade renders the same token (lookup)', { skip: noApiServer }, async () => {
  const namespace = await ensureNamespace(adminConfig(), 'admin-token');
  const first = renderedToken(namespace);
  assert.match(Buffer.from(first, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
  // What the first install leaves in the cluster.
  const secret: KubernetesObject & { type: string; data: Record<string, string> } = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'mx-portcullis-admin', namespace },
    type: 'Opaque',
    data: { token: first },
  };
  const failure = await apply(adminConfig(), secret, { namespace });
  assert.equal(failure, null);
  assert.equal(renderedToken(namespace), first, 'the upgrade keeps the token');
  assert.equal(renderedToken(namespace), first, 'and the next one too');
});
