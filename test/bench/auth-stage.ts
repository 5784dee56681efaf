/**
 * The auth stage's time per message (SPF for MAIL FROM and HELO, DKIM, DMARC,
 * ARC, BIMI, the Authentication-Results header): authenticateRecord in process,
 * one message at a time, on the test DNS server with a warm cache, for DKIM-signed
 * (RSA-2048) messages of 4 KiB and 1 MiB.
 *
 *   make bench   (or: BENCH_AUTH_MESSAGES=500 node test/dist/bench/auth-stage.js, with the test DNS server up)
 */
import { parseConfig } from '@portcullis/config';
import { sampleMeta } from '@portcullis/contract/testing';
import { createDnsResolver } from '@portcullis/dns';
import { authenticateRecord, authMetrics } from '@portcullis/auth';
import { message, sign } from '@portcullis/auth/testing';
import { createLogger, Registry } from '@portcullis/telemetry';
import { DNS_SERVER } from '../support/paths.js';

const rounds = Number(process.env.BENCH_AUTH_MESSAGES ?? 500);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function signedOfSize(bytes: number): Promise<Buffer> {
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmn\r\n';
  const head = message({ from: ['Alice <alice@dmarc-reject.test>'], body: '' }).length;
  const body = line.repeat(Math.max(1, Math.floor((bytes - head - 600) / line.length)));
  return sign(message({ from: ['Alice <alice@dmarc-reject.test>'], body }), 'dmarc-reject.test', 'rsa');
}

async function main() {
  const config = parseConfig({ hostname: 'mx.bench.test', domains: [{ name: 'example.test' }], dns: { servers: [DNS_SERVER] } });
  const registry = new Registry();
  const deps = {
    config,
    resolver: createDnsResolver(config.dns, { registry, env: {} }),
    logger: createLogger({ level: 'warn', service: 'bench' }),
    metrics: authMetrics(registry),
  };
  const envelope = { client: { ip: '192.0.2.10', port: 40000 }, helo: 'mx.spf.test', mailFrom: 'bounce@dmarc-reject.test' };
  for (const [label, bytes, n] of [
    ['4 KiB', 4096, rounds],
    ['1 MiB', 1024 * 1024, Math.max(20, Math.floor(rounds / 5))],
  ] as const) {
    const raw = await signedOfSize(bytes);
    const record = { meta: sampleMeta({ size: raw.length, envelope }), raw };
    const warm = await authenticateRecord(record, deps); // fills the DNS cache
    const dmarc = warm.meta.results.find((r) => r.check === 'auth.dmarc');
    if (dmarc?.outcome !== 'pass') throw new Error(`bench message does not pass DMARC: ${dmarc?.reason}`);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await authenticateRecord(record, deps);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `auth stage, ${label} (${raw.length} bytes), warm DNS cache, ${n} messages one at a time: ` +
        `p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms, max ${times[times.length - 1]!.toFixed(2)} ms`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
