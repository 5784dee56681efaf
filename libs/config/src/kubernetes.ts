import { z } from 'zod';

/** Cluster-side behaviour: leader election for singleton work. */
const Kubernetes = z.strictObject({});

export const kubernetesSections = {
  kubernetes: Kubernetes.prefault({}),
};
