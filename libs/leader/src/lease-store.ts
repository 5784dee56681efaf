import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

/** The lease record as the election needs it. */
export interface LeaseRecord {
  holder: string | null;
  leaseDurationSeconds: number;
  acquireTime: Date | null;
  renewTime: Date | null;
  transitions: number;
  /** Optimistic concurrency: a write with a stale version fails with a conflict. */
  resourceVersion?: string;
}

export class LeaseConflict extends Error {
  override readonly name = 'LeaseConflict';
}

/** The three calls election makes; coordination.k8s.io Leases in a cluster. */
export interface LeaseStore {
  get(): Promise<LeaseRecord | null>;
  /** Creates the lease; throws LeaseConflict when it already exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces it if record.resourceVersion is current; throws LeaseConflict otherwise. */
  replace(record: LeaseRecord): Promise<LeaseRecord>;
}

/**
 * Lease times are MicroTime: the API server parses exactly six fractional
 * digits and refuses a JavaScript ISO date (three); client-node 2.0 sends
 * Date#toISOString as it is, so we pad it here.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}
const micro = (d: Date) => new MicroTime(d.getTime());

const status = (err: unknown) => (err as { code?: number }).code;

function toRecord(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holder: s.holderIdentity || null,
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: s.acquireTime ? new Date(s.acquireTime) : null,
    renewTime: s.renewTime ? new Date(s.renewTime) : null,
    transitions: s.leaseTransitions ?? 0,
    ...(lease.metadata?.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}),
  };
}

/** A Lease in the Kubernetes API (needs get, create, update on leases in the namespace). */
export function kubeLeaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const body = (r: LeaseRecord): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}) },
    spec: {
      ...(r.holder ? { holderIdentity: r.holder } : {}),
      leaseDurationSeconds: r.leaseDurationSeconds,
      ...(r.acquireTime ? { acquireTime: micro(r.acquireTime) } : {}),
      ...(r.renewTime ? { renewTime: micro(r.renewTime) } : {}),
      leaseTransitions: r.transitions,
    },
  });
  const conflicting = (err: unknown) => {
    if (status(err) === 409) throw new LeaseConflict(`lease ${namespace}/${name} was changed by another replica`);
    throw err;
  };
  return {
    async get() {
      try {
        return toRecord(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if (status(err) === 404) return null;
        throw err;
      }
    },
    create: (r) => api.createNamespacedLease({ namespace, body: body(r) }).then(toRecord, conflicting),
    replace: (r) => api.replaceNamespacedLease({ name, namespace, body: body(r) }).then(toRecord, conflicting),
  };
}
