/**
 * Accept throughput and latency over the real broker: every service in its own
 * process on Kafka and Redis, SMTP clients on loopback sending 4 KiB messages
 * over reused connections, a real SMTP server as the mailbox. The latency is
 * from the start of the transaction (MAIL FROM) to the reply to DATA, so it
 * includes the durable write and the in-session verdict.
 *
 *   make bench            (BENCH_MESSAGES, BENCH_CONCURRENCY, BENCH_MODE=kafka|embedded)
 */
import nodemailer from 'nodemailer';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess, startDistributed } from '../support/gateway.js';
import { makeMessage } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { percentile } from '../support/stats.js';

const total = Number(process.env.BENCH_MESSAGES ?? 3000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const mode = process.env.BENCH_MODE ?? 'kafka';
/** BENCH_TRACING=1: every service exports its spans (OTLP/HTTP) to a receiver in this process. */
const tracing = process.env.BENCH_TRACING === '1';
/**
 * The load comes from one loopback address, which the per-IP limits would
 * (rightly) throttle; the benchmark measures the pipeline, so loopback is on
 * the allow list, as an operator would list a trusted relay.
 */
/** BENCH_EXTRA_YAML: more top-level config for an A/B run, e.g. "messageTrace: { enabled: false }". */
const BENCH_FLOW = 'flow:\n  allow: [127.0.0.0/8]\n' + (process.env.BENCH_EXTRA_YAML ? `${process.env.BENCH_EXTRA_YAML}\n` : '');

function fourKiB(n: number): Buffer {
  const filler = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij';
  const lines = Array.from({ length: 56 }, () => filler);
  const msg = makeMessage(`bench ${n}`, lines);
  return msg.subarray(0, Math.min(msg.length, 4096));
}

async function main() {
  const sink = new MailboxSink();
  await sink.start();
  const otlp = tracing ? new OtlpReceiver() : null;
  await otlp?.start();
  const env = otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlp.port}` } : undefined;
  const smtpPort = await freePort();
  const procs: GatewayProcess[] = [];
  if (mode === 'embedded') {
    const gw = new GatewayProcess('bench-embedded', {
      services: ['all'],
      smtpPort,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      extra: BENCH_FLOW,
      ...(env ? { env } : {}),
    });
    await gw.start();
    procs.push(gw);
  } else {
    procs.push(...(await startDistributed({ smtpPort, downstreamPort: sink.port, extra: BENCH_FLOW, ...(env ? { env } : {}) })).values());
  }

  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    pool: true,
    maxConnections: concurrency,
    maxMessages: 100 /* smtp.limits.maxMessages */,
    ignoreTLS: true,
  });
  const warmup = Math.min(200, Math.floor(total / 10));
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const raws = Array.from({ length: 16 }, (_, i) => fourKiB(i));
  const worker = async () => {
    while (next < total + warmup) {
      const n = next++;
      const t0 = performance.now();
      try {
        await transport.sendMail({ envelope: { from: 'bench@sender.test', to: ['postmaster@example.test'] }, raw: raws[n % raws.length]! });
        if (n >= warmup) latencies.push(performance.now() - t0);
      } catch {
        failures++;
      }
    }
  };
  let start = 0;
  const started = waitFor('warm-up', () => next >= warmup, 120_000, 5).then(() => (start = performance.now()));
  await Promise.all(Array.from({ length: concurrency }, worker));
  await started;
  const elapsed = (performance.now() - start) / 1000;
  await waitFor('all delivered', () => sink.messages.length >= total + warmup - failures, 300_000, 200);
  const deliveredAt = (performance.now() - start) / 1000;
  transport.close();

  if (latencies.length === 0) throw new Error(`no message accepted (${failures} failures)`);
  latencies.sort((a, b) => a - b);
  const result = {
    mode,
    tracing,
    spansReceived: otlp?.spans.length ?? 0,
    messages: latencies.length,
    messageBytes: raws[0]!.length,
    concurrency,
    failures,
    acceptedPerSecond: Math.round(latencies.length / elapsed),
    deliveredPerSecond: Math.round(latencies.length / deliveredAt),
    acceptLatencyMs: { p50: +percentile(latencies, 50).toFixed(1), p99: +percentile(latencies, 99).toFixed(1), max: +latencies[latencies.length - 1]!.toFixed(1) },
    rssMiB: Object.fromEntries(await Promise.all(procs.map(async (p) => [p.name, await rss(p)] as const))),
  };
  console.log(JSON.stringify(result, null, 2));
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await sink.stop();
  await otlp?.stop();
}

async function rss(p: GatewayProcess): Promise<number | null> {
  const m = /portcullis_process_process_resident_memory_bytes (\d+)/.exec(await p.metrics().catch(() => ''));
  return m ? Math.round(Number(m[1]) / 1048576) : null;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
