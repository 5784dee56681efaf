import type { DoctorDns } from './dns-lookup.js';
import { ok, wrong, type Finding } from './finding.js';

export interface DnsExpectations {
  /** The gateway's host name (config hostname): the MX target. */
  mxHost: string;
  /** The load balancer's addresses; empty when unknown (then only the MX name is checked). */
  loadBalancer: string[];
  dkimSelector?: string;
  /** Fetches https://mta-sts.<domain>/.well-known/mta-sts.txt; null when there is none. */
  fetchMtaStsPolicy?: (domain: string) => Promise<string | null>;
}

/** MX, SPF, DMARC, DKIM and MTA-STS of one accepted domain. */
export async function checkDomain(dns: DoctorDns, domain: string, want: DnsExpectations): Promise<Finding[]> {
  return [
    await checkMx(dns, domain, want),
    checkSpf(domain, await dns.txt(domain), want),
    checkDmarc(domain, await dns.txt(`_dmarc.${domain}`)),
    ...(want.dkimSelector ? [checkDkim(domain, want.dkimSelector, await dns.txt(`${want.dkimSelector}._domainkey.${domain}`))] : []),
    ...(await checkMtaSts(dns, domain, want)),
  ];
}

async function checkMx(dns: DoctorDns, domain: string, want: DnsExpectations): Promise<Finding> {
  const name = `${domain} MX`;
  const fix = `publish: ${domain}. MX 10 ${want.mxHost}.  and  ${want.mxHost}. A ${want.loadBalancer[0] ?? '<load balancer address>'}`;
  const mx = (await dns.mx(domain)).sort((a, b) => a.priority - b.priority);
  if (mx.length === 0) return wrong(name, 'no MX record', fix);
  const hosts = mx.map((m) => m.exchange.toLowerCase().replace(/\.$/, ''));
  if (!hosts.includes(want.mxHost)) return wrong(name, `points to ${hosts.join(', ')}, not ${want.mxHost}`, fix);
  if (want.loadBalancer.length === 0) return ok(name, `${want.mxHost} (load balancer address unknown: not compared)`);
  const addresses = await dns.addresses(want.mxHost);
  if (!addresses.some((a) => want.loadBalancer.includes(a))) {
    return wrong(name, `${want.mxHost} resolves to ${addresses.join(', ') || 'nothing'}, not the load balancer (${want.loadBalancer.join(', ')})`, fix);
  }
  return ok(name, `${want.mxHost} -> ${addresses.join(', ')}`);
}

function checkSpf(domain: string, txt: string[], want: DnsExpectations): Finding {
  const name = `${domain} SPF`;
  const spf = txt.filter((t) => /^v=spf1(\s|$)/i.test(t));
  const fix = `publish one record: ${domain}. TXT "v=spf1 mx -all"`;
  if (spf.length === 0) return wrong(name, 'no SPF record', fix);
  if (spf.length > 1) return wrong(name, `${spf.length} SPF records (RFC 7208 makes that a permerror)`, fix);
  const record = spf[0]!;
  const allows = /\s(\+?mx|\+?a:|\+?ip[46]:|include:|redirect=)/i.test(` ${record}`) || want.loadBalancer.some((a) => record.includes(a)) || record.includes(want.mxHost);
  if (!allows) return wrong(name, `"${record}" does not name the gateway`, fix);
  return ok(name, record);
}

function checkDmarc(domain: string, txt: string[]): Finding {
  const name = `${domain} DMARC`;
  const dmarc = txt.filter((t) => /^v=DMARC1\s*;/i.test(t));
  const fix = `publish: _dmarc.${domain}. TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@${domain}"`;
  if (dmarc.length !== 1) return wrong(name, dmarc.length ? 'several DMARC records' : 'no DMARC record', fix);
  const policy = /;\s*p=(none|quarantine|reject)\s*(;|$)/i.exec(dmarc[0]!)?.[1];
  if (!policy) return wrong(name, `"${dmarc[0]}" has no valid p= tag`, fix);
  return ok(name, `p=${policy}`);
}

function checkDkim(domain: string, selector: string, txt: string[]): Finding {
  const name = `${domain} DKIM ${selector}`;
  const key = txt.find((t) => /(^|;)\s*p=[A-Za-z0-9+/=]{16,}/.test(t));
  if (!key) return wrong(name, `no DKIM public key at ${selector}._domainkey.${domain}`, `publish: ${selector}._domainkey.${domain}. TXT "v=DKIM1; k=rsa; p=<public key>"`);
  return ok(name, 'public key published');
}

async function checkMtaSts(dns: DoctorDns, domain: string, want: DnsExpectations): Promise<Finding[]> {
  const name = `${domain} MTA-STS`;
  const record = (await dns.txt(`_mta-sts.${domain}`)).find((t) => /^v=STSv1\s*;/i.test(t));
  if (!record || !/;\s*id=[A-Za-z0-9]{1,32}\s*(?:;\s*)?$/.test(record)) {
    return [
      wrong(
        name,
        record ? `bad record "${record}"` : 'no _mta-sts TXT record',
        `publish: _mta-sts.${domain}. TXT "v=STSv1; id=20260101T000000" and serve the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt`,
      ),
    ];
  }
  if (!want.fetchMtaStsPolicy) return [ok(name, `${record} (policy not fetched)`)];
  let policy: string | null;
  try {
    policy = await want.fetchMtaStsPolicy(domain);
  } catch (err) {
    return [wrong(name, `policy not reachable: ${(err as Error).message}`, `serve https://mta-sts.${domain}/.well-known/mta-sts.txt with a valid certificate`)];
  }
  const lines = new Map(
    (policy ?? '')
      .split(/\r?\n/)
      .map((l) => l.split(':').map((x) => x.trim()) as [string, string])
      .map(([k, v]) => [k, v]),
  );
  const mxs = (policy ?? '')
    .split(/\r?\n/)
    .filter((l) => /^mx\s*:/.test(l))
    .map((l) => l.split(':')[1]!.trim());
  const covered = mxs.some((m) => m === want.mxHost || (m.startsWith('*.') && want.mxHost.endsWith(m.slice(1))));
  if (lines.get('version') !== 'STSv1' || !covered) {
    return [
      wrong(
        name,
        policy ? `policy does not list mx: ${want.mxHost}` : 'no policy served',
        `serve at https://mta-sts.${domain}/.well-known/mta-sts.txt:\n          version: STSv1\n          mode: enforce\n          mx: ${want.mxHost}\n          max_age: 604800`,
      ),
    ];
  }
  return [ok(name, `mode ${lines.get('mode') ?? '?'}, mx ${want.mxHost}`)];
}
