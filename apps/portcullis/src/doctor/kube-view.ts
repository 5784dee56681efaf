import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { CERT_MANAGER, type CertificateList } from './cert-manager.js';
import type { ClusterView } from './cluster-checks.js';

/** The release's objects, found by the chart's labels. Needs get/list on deployments, services, certificates. */
export function kubeView(kc: KubeConfig, namespace: string, release: string): ClusterView {
  const labelSelector = `app.kubernetes.io/name=portcullis,app.kubernetes.io/instance=${release}`;
  return {
    async certificates() {
      const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ ...CERT_MANAGER, namespace, labelSelector })) as CertificateList;
      return list.items;
    },
    async deployments() {
      return (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace, labelSelector })).items;
    },
    async edgeService() {
      const list = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace, labelSelector: `${labelSelector},app.kubernetes.io/component=edge` });
      return list.items.find((s) => !s.metadata?.labels?.['portcullis.io/metrics']) ?? null;
    },
  };
}
