import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import { ClamdClient } from '@portcullis/content';
import { ok, wrong, type Finding } from './finding.js';
import { redisUrlForLog, untilStateReachable } from '../state-watch.js';

const DAY = 86_400_000;

/** Redis answers (the state's own connection, within the deadline). */
export async function checkRedis(state: SharedState, url: string, timeoutMs: number): Promise<Finding> {
  try {
    await untilStateReachable(state, timeoutMs);
    return ok('redis', `answers at ${redisUrlForLog(url)}`);
  } catch (err) {
    return wrong('redis', (err as Error).message, 'check state.redis.url, state.redis.passwordFile and that redis-server runs (systemctl status redis-server)');
  }
}

/** The first line a server sends on connect, or why there was none. */
function greeting(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = '';
    const done = (err: Error | null, line?: string) => {
      socket.removeAllListeners('data');
      if (line !== undefined) socket.end('QUIT\r\n');
      else socket.destroy();
      return err ? reject(err) : resolve(line!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no greeting within ${timeoutMs} ms`)));
    socket.on('error', (err) => done(err));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // A multi-line greeting ends with "220 " (RFC 5321 4.2.1).
      const last = text.split('\r\n').find((l) => /^\d{3} /.test(l));
      if (last) done(null, last);
      else if (text.length > 4096) done(new Error('greeting longer than 4 KiB'));
    });
  });
}

/** Each mailbox server (domains[].downstream) and the smart host greet with 220. */
export async function checkDownstreams(config: Config, timeoutMs: number): Promise<Finding[]> {
  const targets = new Map<string, { host: string; port: number; key: string }>();
  for (const d of config.domains) if (d.downstream) targets.set(`${d.downstream.host}:${d.downstream.port}`, { ...d.downstream, key: `domains[${d.name}].downstream` });
  const smarthost = config.relay.outbound?.smarthost;
  if (smarthost) targets.set(`${smarthost.host}:${smarthost.port}`, { ...smarthost, key: 'relay.outbound.smarthost' });
  if (targets.size === 0) return [ok('downstream', `none configured: mail is written to the Maildir under ${config.relay.maildir}`)];
  return Promise.all(
    [...targets.entries()].map(async ([where, t]) => {
      const name = `downstream ${where}`;
      try {
        const line = await greeting(t.host, t.port, timeoutMs);
        return line.startsWith('220 ')
          ? ok(name, `greets: ${line.slice(0, 120)}`)
          : wrong(name, `greets with "${line.slice(0, 120)}", not 220`, `the server at ${where} (${t.key}) refuses us: check its access rules for this host`);
      } catch (err) {
        return wrong(name, `no SMTP greeting: ${(err as Error).message}`, `check ${t.key} (host, port) and that this host may connect to it`);
      }
    }),
  );
}

/** clamd PING and rspamd /ping, for the engines that are on. */
export async function checkScanners(config: Config, timeoutMs: number): Promise<Finding[]> {
  const out: Finding[] = [];
  const av = config.content.antivirus;
  if (av.enabled) {
    const pong = await new ClamdClient({ address: av.address, timeoutMs, poolSize: 1 }).ping();
    out.push(
      pong
        ? ok('clamd', `PONG from ${av.address}`)
        : wrong('clamd', `no PONG from ${av.address}`, 'check content.antivirus.address and that clamd runs (systemctl status clamav-daemon)'),
    );
  }
  const as = config.content.antispam;
  if (as.enabled) {
    const url = new URL('/ping', as.url);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.text()).trim();
      out.push(
        res.ok && body === 'pong'
          ? ok('rspamd', `pong from ${url}`)
          : wrong('rspamd', `${url} answered HTTP ${res.status} "${body.slice(0, 60)}"`, "check content.antispam.url: it is rspamd's normal worker (port 11333)"),
      );
    } catch (err) {
      out.push(wrong('rspamd', `${url}: ${(err as Error).message}`, 'check content.antispam.url and that rspamd runs (systemctl status rspamd)'));
    }
  }
  return out;
}

/** Each tls.certificates pair: readable, in its validity period (with a margin), and the key is the certificate's. */
export function checkCertificateFiles(config: Config, now: number, minDaysLeft: number): Finding[] {
  return config.tls.certificates.map(({ certFile, keyFile }) => {
    const name = `certificate ${certFile}`;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(readFileSync(certFile));
    } catch (err) {
      return wrong(
        name,
        `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        'check tls.certificates[].certFile and that the service user may read it',
      );
    }
    let keyMatches: boolean;
    try {
      keyMatches = cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
    } catch (err) {
      return wrong(
        name,
        `cannot read the key ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        'check tls.certificates[].keyFile and that the service user may read it',
      );
    }
    if (!keyMatches) return wrong(name, `the key ${keyFile} is not this certificate's`, 'pair each certFile with its own keyFile (a renewal may have made a new key)');
    const days = Math.floor((cert.validToDate.getTime() - now) / DAY);
    if (cert.validFromDate.getTime() > now) return wrong(name, `not valid before ${cert.validFrom}`, 'check the clock of this host');
    if (days < 0) return wrong(name, `expired ${cert.validTo}`, 'renew it (certbot renew, or your CA) and put the new files in place: the edge reloads them');
    if (days < minDaysLeft) return wrong(name, `expires in ${days} days (${cert.validTo})`, 'renewal is not happening: check the renewal job (certbot renew --dry-run)');
    return ok(name, `key matches, ${days} days left, for ${cert.subjectAltName ?? cert.subject}`);
  });
}

/** Each service's /readyz answers 200 (the failing checks are shown when it does not). */
export async function checkReadyz(urls: string[], timeoutMs: number): Promise<Finding[]> {
  return Promise.all(
    urls.map(async (url) => {
      const name = `readyz ${url}`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        if (res.status === 200) return ok(name, 'ready');
        const body = (await res.text()).slice(0, 300);
        return wrong(name, `HTTP ${res.status} ${body}`, 'the failing checks say which dependency that service waits for; see its log (journalctl -u portcullis@<service>)');
      } catch (err) {
        return wrong(
          name,
          `no answer: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
          'is the service running, on this port? (--http-port / PORTCULLIS_HTTP_PORT of its unit)',
        );
      }
    }),
  );
}

export interface HostCheckDeps {
  config: Config;
  /** The shared state to try (null when state.kind is memory: nothing to reach). */
  state: SharedState | null;
  /** The /readyz URLs of the services on this install. */
  readyz: string[];
  now: number;
  minCertificateDays: number;
  timeoutMs: number;
}

/** Off Kubernetes: what the cluster checks would otherwise show, asked of the parts themselves. */
export async function runHostChecks(deps: HostCheckDeps): Promise<Finding[]> {
  const { config, timeoutMs } = deps;
  const [redis, downstreams, scanners, readyz] = await Promise.all([
    deps.state && config.state.redis ? checkRedis(deps.state, config.state.redis.url, timeoutMs) : null,
    checkDownstreams(config, timeoutMs),
    checkScanners(config, timeoutMs),
    checkReadyz(deps.readyz, timeoutMs),
  ]);
  return [...(redis ? [redis] : []), ...downstreams, ...scanners, ...checkCertificateFiles(config, deps.now, deps.minCertificateDays), ...readyz];
}
