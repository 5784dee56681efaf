import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

/**
 * Server-side apply that sends the object exactly as rendered. client-node's
 * KubernetesObjectApi re-serialises known kinds through its typed models, which
 * silently drops fields it does not know (a typo in the chart would vanish
 * before the API server could refuse it) and x-kubernetes-* keys in CRDs.
 */
export class RawKube {
  private readonly discovered = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();
  constructor(private readonly kc: KubeConfig) {}

  async call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
    const cluster = this.kc.getCurrentCluster()!;
    const user = this.kc.getCurrentUser()!;
    const url = new URL(path, cluster.server);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ...(cluster.caFile ? { ca: readFileSync(cluster.caFile) } : {}),
          ...(user.certFile && user.keyFile ? { cert: readFileSync(user.certFile), key: readFileSync(user.keyFile) } : {}),
          headers: { accept: 'application/json', 'content-type': contentType, ...(user.token ? { authorization: `Bearer ${user.token}` } : {}) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: Record<string, unknown> = {};
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              json = { message: text };
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async resource(apiVersion: string, kind: string) {
    let list = this.discovered.get(apiVersion);
    if (!list) {
      const res = await this.call('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
      if (res.status !== 200) throw new Error(`${apiVersion} is not served (HTTP ${res.status})`);
      list = res.json.resources as { name: string; kind: string; namespaced: boolean }[];
      this.discovered.set(apiVersion, list);
    }
    const r = list.find((x) => x.kind === kind && !x.name.includes('/'));
    if (!r) throw new Error(`${kind} is not served in ${apiVersion}`);
    return r;
  }

  /** Returns the API server's refusal, or null when it accepted the object. */
  async apply(obj: KubernetesObject, opts: { namespace?: string; dryRun?: boolean } = {}): Promise<string | null> {
    const label = `${obj.kind}/${obj.metadata?.name}`;
    try {
      const r = await this.resource(obj.apiVersion!, obj.kind!);
      const ns = r.namespaced ? (obj.metadata?.namespace ?? opts.namespace ?? 'default') : undefined;
      const body = ns ? { ...obj, metadata: { ...obj.metadata, namespace: ns } } : obj;
      const base = obj.apiVersion!.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
      const path = `${base}${ns ? `/namespaces/${ns}` : ''}/${r.name}/${obj.metadata!.name}`;
      const query = `?fieldManager=portcullis-test&force=true&fieldValidation=Strict${opts.dryRun ? '&dryRun=All' : ''}`;
      const res = await this.call('PATCH', path + query, JSON.stringify(body), 'application/apply-patch+yaml');
      return res.status < 300 ? null : `${label}: ${String(res.json.message)}`;
    } catch (err) {
      return `${label}: ${(err as Error).message}`;
    }
  }
}
