import type { Bus } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import { topicSpecs } from '../runtime.js';
import { checkCertificates, checkDeployments, checkLoadBalancer, loadBalancerAddresses, type ClusterView } from './cluster-checks.js';
import { checkDomain } from './dns-checks.js';
import type { DoctorDns } from './dns-lookup.js';
import { wrong, type Finding } from './finding.js';
import { checkTopics } from './topics-check.js';
import { runHostChecks, type HostCheckDeps } from './host-checks.js';

export interface DoctorDeps {
  config: Config;
  /** Null when run without cluster access (then only Kafka and DNS are checked). */
  cluster: ClusterView | null;
  namespace: string;
  bus: Bus;
  dns: DoctorDns;
  now: () => number;
  dkimSelector?: string;
  minCertificateDays?: number;
  fetchMtaStsPolicy?: (domain: string) => Promise<string | null>;
  /** Off Kubernetes: Redis, downstreams, scanners, certificate files and each /readyz, asked directly. */
  host?: Pick<HostCheckDeps, 'state' | 'readyz' | 'timeoutMs'>;
}

/** Runs every check; a check that cannot run is a finding too, never an exception. */
export async function runDoctor(deps: DoctorDeps): Promise<Finding[]> {
  const findings: Finding[] = [];
  const guard = async (check: string, fn: () => Promise<Finding[]>) => {
    try {
      findings.push(...(await fn()));
    } catch (err) {
      findings.push(wrong(check, `could not check: ${(err as Error).message}`, 'check the doctor can reach the API server / DNS (kubeconfig, RBAC, network policy)'));
    }
  };
  let lb: string[] = [];
  if (deps.cluster) {
    const cluster = deps.cluster;
    await guard('certificate', async () =>
      checkCertificates(await cluster.certificates(), { now: deps.now(), minDaysLeft: deps.minCertificateDays ?? 14, namespace: deps.namespace }),
    );
    await guard('deployments', async () => checkDeployments(await cluster.deployments(), deps.namespace));
    await guard('load balancer', async () => {
      const service = await cluster.edgeService();
      lb = loadBalancerAddresses(service);
      return [checkLoadBalancer(service, deps.namespace)];
    });
  }
  if (deps.host) {
    const host = deps.host;
    await guard('host', () => runHostChecks({ ...host, config: deps.config, now: deps.now(), minCertificateDays: deps.minCertificateDays ?? 14 }));
  }
  // Embedded mode's in-process bus lives inside the gateway's process: nothing for the doctor to list.
  if (deps.config.bus.kind === 'kafka') findings.push(await checkTopics(deps.bus, topicSpecs(deps.config), 10_000));
  for (const d of deps.config.domains) {
    await guard(`${d.name} DNS`, () =>
      checkDomain(deps.dns, d.name, {
        mxHost: deps.config.hostname,
        loadBalancer: lb,
        ...(deps.dkimSelector ? { dkimSelector: deps.dkimSelector } : {}),
        ...(deps.fetchMtaStsPolicy ? { fetchMtaStsPolicy: deps.fetchMtaStsPolicy } : {}),
      }),
    );
  }
  return findings;
}

/** The policy over HTTPS with the system's trust store (RFC 8461 3.3), bounded in time and size. */
export async function fetchMtaStsPolicy(domain: string): Promise<string | null> {
  const res = await fetch(`https://mta-sts.${domain}/.well-known/mta-sts.txt`, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  return text.slice(0, 64 * 1024);
}
