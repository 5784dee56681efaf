import { parseConfig } from '@portcullis/config';
import { NetworkList } from '@portcullis/networks';
import type { CheckResult, Envelope, MailRecord } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { createDnsResolver } from '@portcullis/dns';
import { TEST_DNS } from '@portcullis/dns/testing';
import { createLogger, Registry } from '@portcullis/telemetry';
import { authenticateRecord } from '../src/record-auth.js';
import { authMetrics } from '../src/metrics.js';
import type { SealKey } from '../src/seal-key.js';
import { headerFields, headerSection } from '@portcullis/message';

export const AUTHSERV_ID = 'mx.portcullis.test';

/** The client the zones allow (ip4:192.0.2.10 in their SPF), saying HELO mx.spf.test. */
export const CLIENT: Partial<Envelope> = { client: { ip: '192.0.2.10', port: 40000 }, helo: 'mx.spf.test', mailFrom: 'bounce@pass.spf.test' };

export interface Checked {
  record: MailRecord;
  by: Record<string, CheckResult>;
}

/** The auth stage as it runs, on the test DNS server, with the given `authentication` section. */
export function authHarness(authentication: Record<string, unknown> = {}, opts: { random?: () => number; seal?: SealKey } = {}) {
  const config = parseConfig({
    hostname: AUTHSERV_ID,
    domains: [{ name: 'example.test' }],
    dns: { servers: [TEST_DNS], timeoutMs: 300, attempts: 1, messageDeadlineMs: 3000 },
    authentication,
  });
  const registry = new Registry();
  const resolver = createDnsResolver(config.dns, { registry, env: {} });
  const logger = createLogger({ level: 'silent', service: 'auth-test' });
  const metrics = authMetrics(registry);
  const trusted = new NetworkList(config.authentication.trustedNetworks);
  return {
    config,
    registry,
    async check(raw: Buffer, envelope: Partial<Envelope> = {}): Promise<Checked> {
      const record = { meta: sampleMeta({ size: raw.length, envelope: { ...CLIENT, ...envelope } }), raw };
      const out = await authenticateRecord(record, { config, resolver, logger, metrics, trusted, random: opts.random, seal: opts.seal });
      return { record: out, by: Object.fromEntries(out.meta.results.map((r) => [r.check, r])) };
    },
  };
}

/** The Authentication-Results headers of a message, unfolded. */
export function authResultsHeaders(raw: Buffer): string[] {
  const fields = headerFields(headerSection(raw)).map((f) =>
    f
      .toString('latin1')
      .replace(/\r?\n$/, '')
      .replace(/\r?\n[ \t]+/g, ' '),
  );
  return fields.filter((l) => /^authentication-results:/i.test(l));
}
