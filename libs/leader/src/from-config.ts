import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '@portcullis/config';
import { alwaysLeader, type Leadership } from './leadership.js';
import { electLeader } from './elect.js';
import { kubeLeaseStore } from './lease-store.js';

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The leadership for one singleton job, as the config says: a Lease named
 * `portcullis-<name>` in the cluster (kubernetes.leaderElection.enabled), or
 * always leader. identity defaults to $POD_NAME.
 */
export function leadershipFor(config: Config, name: string, opts: { identity?: string; kubeConfig?: KubeConfig; onError?: (err: Error) => void } = {}): Leadership {
  const le = config.kubernetes.leaderElection;
  if (!le.enabled) return alwaysLeader();
  const kc = opts.kubeConfig ?? loadKubeConfig();
  const namespace = le.namespace ?? process.env.POD_NAMESPACE ?? readFileSync(SA_NAMESPACE, 'utf8').trim();
  const identity = opts.identity ?? process.env.POD_NAME ?? `${process.pid}@${process.env.HOSTNAME ?? 'unknown'}`;
  return electLeader({
    identity,
    store: kubeLeaseStore(kc, namespace, `portcullis-${name}`),
    leaseDurationSeconds: le.leaseDurationSeconds,
    renewIntervalSeconds: le.renewIntervalSeconds,
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
}

/** In a pod: its service account; outside: $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
