import { z } from 'zod';

/**
 * Singleton work (quarantine expiry, digests, reports) runs on one replica at a
 * time. enabled: elected with a coordination.k8s.io Lease (in a cluster; the
 * Helm chart turns it on and grants the relay the Lease RBAC); off: this
 * process is always the leader (embedded mode, one replica).
 */
const LeaderElection = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Namespace of the Leases; default: the pod's ($POD_NAMESPACE, else the service account's). */
    namespace: z.string().min(1).optional(),
    /** A leader that has not renewed for this long is replaced. */
    leaseDurationSeconds: z.number().int().min(2).max(3600).default(15),
    /** How often the leader renews, and a candidate retries. */
    renewIntervalSeconds: z.number().int().min(1).max(600).default(5),
  })
  .refine((l) => l.renewIntervalSeconds * 2 <= l.leaseDurationSeconds, {
    message: 'renewIntervalSeconds must be at most half of leaseDurationSeconds (a leader must renew before its lease runs out)',
    path: ['renewIntervalSeconds'],
  });

/** Cluster-side behaviour: leader election for singleton work. */
const Kubernetes = z.strictObject({
  leaderElection: LeaderElection.prefault({}),
});

export const kubernetesSections = {
  kubernetes: Kubernetes.prefault({}),
};
