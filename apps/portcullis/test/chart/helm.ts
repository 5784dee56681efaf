import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

/** The repository root, from apps/portcullis/dist/test/chart. */
export const ROOT = resolve(import.meta.dirname, '../../../../..');
export const CHART = join(ROOT, 'charts/portcullis');
export const VALUES_SETS = ['minimal', 'proxy-v2', 'keda', 'strimzi', 'existing-secrets'] as const;

export function helmPath(): string {
  const helm = process.env.PORTCULLIS_TEST_HELM || join(ROOT, '.tools/bin/helm');
  if (!existsSync(helm)) throw new Error(`helm not found at ${helm}: run bash test/infra/kube/tools.sh helm (make test does)`);
  return helm;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function valuesFile(set: string): string {
  return join(CHART, 'ci', `${set}-values.yaml`);
}

/** helm template; throws with helm's message when rendering fails. */
export function renderText(args: string[]): string {
  const res = spawnSync(helmPath(), ['template', 'mx', CHART, '--namespace', 'mail', ...args], { encoding: 'utf8' });
  if (res.status !== 0)
    throw new Error(
      res.stderr
        .split('\n')
        .filter((l) => !l.includes('symbolic link'))
        .join('\n'),
    );
  return res.stdout;
}

export function render(args: string[]): K8sObject[] {
  return parseAllDocuments(renderText(args))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function lint(set: string): string {
  return execFileSync(helmPath(), ['lint', CHART, '--strict', '-f', valuesFile(set)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The gateway config file the chart's ConfigMap carries, parsed. */
export function renderedConfig(objects: K8sObject[]): unknown {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-config'));
  if (!cm) throw new Error('no config ConfigMap rendered');
  return parse((cm.data as Record<string, string>)['portcullis.yaml']!);
}

export const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** NOTES.txt as `helm install --dry-run=client` prints it (no cluster needed). */
export function installNotes(args: string[]): string {
  const res = spawnSync(helmPath(), ['install', 'mx', CHART, '--namespace', 'mail', '--dry-run=client', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  return res.stdout.slice(res.stdout.indexOf('NOTES:'));
}
