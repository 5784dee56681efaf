import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfigFile, type Config } from '@portcullis/config';
import { createDnsResolver } from '@portcullis/dns';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { createBus, createState } from '../runtime.js';
import { adminUrl } from '../admin-cli.js';
import { fetchMtaStsPolicy, runDoctor } from './doctor.js';
import { doctorDns } from './dns-lookup.js';
import { report } from './finding.js';
import { kubeView } from './kube-view.js';

export const DOCTOR_USAGE = `usage: portcullis doctor [--config FILE] [--namespace NS] [--release NAME] [--kubeconfig FILE]
                         [--dkim-selector S] [--dns-server HOST[:PORT]]... [--no-cluster] [--no-mta-sts-fetch]
                         [--readyz URL]...
  Checks the install: certificate Ready and not near expiry, deployments available, the load balancer,
  the Kafka topics, and each accepted domain's DNS (MX, SPF, DMARC, DKIM, MTA-STS).
  Off Kubernetes (no in-cluster service account, no --kubeconfig or $KUBECONFIG) the cluster checks are
  skipped and it checks instead: Redis, each mailbox server's and the smart host's SMTP greeting, clamd
  and rspamd, the certificate files (readable, not expiring, key matches) and each service's /readyz
  (--readyz, repeated; default the config's http.listen).
  Exit 0: all good; 1: something is wrong (printed with the fix); 2: usage; 78: bad config.`;

/** The services' DNS layer; --dns-server wins over dns.servers and PORTCULLIS_DNS_SERVERS. No shared cache: the doctor asks afresh. */
function dnsFor(config: Config, servers: string[] | undefined) {
  const dns = { ...config.dns, cache: { ...config.dns.cache, shared: false } };
  return createDnsResolver(servers?.length ? { ...dns, servers } : dns, { registry: createRegistry(), ...(servers?.length ? { env: {} } : {}) });
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** In a pod with a service account (what client-node's loadFromCluster reads). */
const inCluster = () => !!process.env.KUBERNETES_SERVICE_HOST && existsSync(`${SERVICE_ACCOUNT}/token`);

/** `portcullis doctor`: prints the findings; the exit code is for scripts. */
export async function doctorCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        namespace: { type: 'string' },
        release: { type: 'string' },
        kubeconfig: { type: 'string' },
        'dkim-selector': { type: 'string' },
        'dns-server': { type: 'string', multiple: true },
        'no-cluster': { type: 'boolean' },
        'no-mta-sts-fetch': { type: 'boolean' },
        readyz: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (values.help) return (console.log(DOCTOR_USAGE), 0);
  const path = values.config ?? process.env.PORTCULLIS_CONFIG ?? 'config/portcullis.yaml';
  let config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 78;
  }
  const namespace = values.namespace ?? process.env.POD_NAMESPACE ?? 'default';
  let cluster = null;
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (values['no-cluster']) console.log('kubernetes checks skipped (--no-cluster)');
  else if (!inCluster() && !kubeconfig) console.log(`kubernetes checks skipped: not in a cluster (no service account at ${SERVICE_ACCOUNT}, no --kubeconfig or $KUBECONFIG)`);
  else {
    const kc = new KubeConfig();
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromCluster();
    cluster = kubeView(kc, namespace, values.release ?? 'portcullis');
  }
  const logger = createLogger({ level: 'silent', service: 'doctor' });
  const bus = createBus(config, logger);
  const state = !cluster && config.state.kind === 'redis' ? createState(config) : null;
  try {
    const findings = await runDoctor({
      config,
      cluster,
      namespace,
      bus,
      now: Date.now,
      dns: doctorDns(dnsFor(config, values['dns-server'])),
      ...(values['dkim-selector'] ? { dkimSelector: values['dkim-selector'] } : {}),
      ...(values['no-mta-sts-fetch'] ? {} : { fetchMtaStsPolicy }),
      ...(cluster ? {} : { host: { state, readyz: values.readyz ?? [`${adminUrl(config.http.listen)}/readyz`], timeoutMs: 5000 } }),
    });
    console.log(report(findings));
    return findings.every((f) => f.ok) ? 0 : 1;
  } finally {
    await bus.close().catch(() => {});
    await state?.close().catch(() => {});
  }
}
