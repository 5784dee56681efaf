import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Certificate } from './cert-manager.js';
import { ok, wrong, type Finding } from './finding.js';

/** What the doctor reads from the cluster, behind a small interface (client-node in production). */
export interface ClusterView {
  certificates(): Promise<Certificate[]>;
  deployments(): Promise<V1Deployment[]>;
  edgeService(): Promise<V1Service | null>;
}

const DAY = 86_400_000;

export function checkCertificates(certs: Certificate[], opts: { now: number; minDaysLeft: number; namespace: string }): Finding[] {
  if (certs.length === 0) {
    return [wrong('certificate', 'no cert-manager Certificate of this release', 'install with certificate.enabled: true (or check certificate.existingSecret by hand)')];
  }
  return certs.map((c) => {
    const name = `certificate ${c.metadata.name}`;
    const ready = c.status?.conditions?.find((x) => x.type === 'Ready');
    const describe = `kubectl -n ${opts.namespace} describe certificate ${c.metadata.name}`;
    if (ready?.status !== 'True') {
      return wrong(
        name,
        `not Ready (${ready?.reason ?? 'no status yet'}${ready?.message ? `: ${ready.message}` : ''})`,
        `${describe}; check the issuer ${c.spec.issuerRef.kind ?? 'Issuer'}/${c.spec.issuerRef.name} and its challenges (kubectl get challenges -A)`,
      );
    }
    const notAfter = c.status?.notAfter ? Date.parse(c.status.notAfter) : NaN;
    if (!Number.isFinite(notAfter)) return wrong(name, 'Ready but without notAfter', describe);
    const days = Math.floor((notAfter - opts.now) / DAY);
    if (days < opts.minDaysLeft) {
      return wrong(
        name,
        `expires in ${days} days (${c.status!.notAfter}); renewal is not happening`,
        `${describe}; see the cert-manager logs; renew by hand with: cmctl renew -n ${opts.namespace} ${c.metadata.name}`,
      );
    }
    return ok(name, `Ready, ${days} days left, for ${(c.spec.dnsNames ?? []).join(', ')}`);
  });
}

export function checkDeployments(deployments: V1Deployment[], namespace: string): Finding[] {
  if (deployments.length === 0) return [wrong('deployments', 'none found for this release', `helm -n ${namespace} status <release>`)];
  return deployments.map((d) => {
    const name = `deployment ${d.metadata?.name}`;
    const want = d.spec?.replicas ?? 1;
    const available = d.status?.availableReplicas ?? 0;
    const condition = d.status?.conditions?.find((c) => c.type === 'Available');
    if (available >= want && want > 0 && condition?.status === 'True') return ok(name, `${available}/${want} available`);
    return wrong(
      name,
      `${available}/${want} available${condition?.message ? ` (${condition.message})` : ''}`,
      `kubectl -n ${namespace} describe deployment ${d.metadata?.name}; kubectl -n ${namespace} logs deploy/${d.metadata?.name}`,
    );
  });
}

/** The load balancer's addresses (IPs, or host names on clouds that give those). */
export function loadBalancerAddresses(service: V1Service | null): string[] {
  return (service?.status?.loadBalancer?.ingress ?? []).flatMap((i) => [i.ip, i.hostname].filter((x): x is string => Boolean(x)));
}

export function checkLoadBalancer(service: V1Service | null, namespace: string): Finding {
  if (!service) return wrong('load balancer', 'no edge Service for this release', `helm -n ${namespace} status <release>`);
  const addresses = loadBalancerAddresses(service);
  if (addresses.length === 0) {
    return wrong(
      'load balancer',
      `service ${service.metadata?.name} has no external address yet`,
      `kubectl -n ${namespace} describe service ${service.metadata?.name} (is a load-balancer controller installed?)`,
    );
  }
  return ok('load balancer', addresses.join(', '));
}
