import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { RawKube } from './raw-apply.js';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../chart/helm.js';

/** The real API server scripts/test.sh starts; tests skip (saying why) only when it could not be built. */
export const KUBECONFIG = process.env.PORTCULLIS_TEST_KUBECONFIG;
export const noApiServer = !KUBECONFIG || !existsSync(KUBECONFIG) ? 'no API server (test/infra/kube/apiserver.sh did not build or start one)' : false;

export function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG!);
  return kc;
}

/** The same cluster, as a bearer token (a service account's). */
export function tokenConfig(token: string): KubeConfig {
  const admin = adminConfig();
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }],
    currentContext: 'sa',
  });
  return kc;
}

export function yamlObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null);
}

/** Server-side apply, as `kubectl apply --server-side [--dry-run=server]` does. Returns the refusal, or null. */
export function apply(kc: KubeConfig, obj: KubernetesObject, opts: { namespace?: string; dryRun?: boolean } = {}): Promise<string | null> {
  return new RawKube(kc).apply(obj, opts);
}

export async function ensureNamespace(kc: KubeConfig, name: string, labels: Record<string, string> = {}): Promise<string> {
  const failure = await apply(kc, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  if (failure) throw new Error(failure);
  return name;
}

/** The CRDs test/infra/kube/crds.sh took from the projects' Go modules, applied and established. */
export async function installCrds(kc: KubeConfig): Promise<string[]> {
  const dir = join(ROOT, '.tools/crds');
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yamlObjects(readFileSync(join(dir, f), 'utf8')));
  for (const crd of crds) {
    const failure = await apply(kc, crd);
    if (failure) throw new Error(failure);
  }
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata!.name!);
  for (const name of names) {
    for (let i = 0; ; i++) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${name} not established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Discovery needs a moment before the new kinds can be applied.
  await new Promise((r) => setTimeout(r, 1500));
  return names;
}

/** A token for a service account, through the TokenRequest API (what the kubelet mounts into a pod). */
export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const res = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 600 } },
  });
  if (!res.status?.token) throw new Error(`no token for ${namespace}/${name}`);
  return res.status.token;
}
