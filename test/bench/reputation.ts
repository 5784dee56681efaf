/**
 * The reputation stage's cost per message, against the real test DNS server (BIND on loopback,
 * the list zones of test/infra/dns/zones) and the real Redis: list look-ups per message and the
 * stage's p50/p99, with a cold cache (a new resolver per message, nothing in Redis), a warm
 * shared cache (a new resolver per message, answers in Redis: another replica asked first) and
 * a warm memory cache (one resolver, as one replica sees its second message). Also the
 * connect-time DNSBL check of one client address, cold and warm.
 *
 *   make bench  (or: node test/dist/bench/reputation.js; BENCH_MESSAGES, default 300)
 */
import { randomUUID } from 'node:crypto';
import { ConfigSchema } from '@portcullis/config';
import { sampleMeta } from '@portcullis/contract/testing';
import { checkClientIp, type ClientIpPolicy } from '@portcullis/dnsbl';
import { queriesSent, testResolver, TEST_LISTS } from '@portcullis/dnsbl/testing';
import { RedisState } from '@portcullis/state';
import { checkReputation, LINKS_TASK, LocalLists, workerLinkReader, type CheckDeps } from '@portcullis/reputation';
import { obfuscatedMessage } from '@portcullis/reputation/testing';
import { WorkerPool } from '@portcullis/workers';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { REDIS_URL } from '../support/paths.js';

const total = Number(process.env.BENCH_MESSAGES ?? 300);
const reputation = ConfigSchema.shape.reputation.parse({ content: { lists: [TEST_LISTS.uribl, TEST_LISTS.dbl], maxDomains: 20 }, history: { enabled: false } });
const connect: ClientIpPolicy = { lists: [TEST_LISTS.dnsbl, TEST_LISTS.dnswl], refuseAt: 10, tarpitAt: 5, timeoutMs: 1500, deadlineMs: 3000 };
const raw = obfuscatedMessage();
const meta = sampleMeta({ envelope: { mailFrom: 'bounce@sender.example' } });

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(2)} ms, p99 ${pct(s, 99).toFixed(2)} ms`;
};

type Make = (i: number) => ReturnType<typeof testResolver>;

async function run(label: string, make: Make, work: (deps: ReturnType<typeof testResolver>) => Promise<number>): Promise<void> {
  const times: number[] = [];
  let lookups = 0;
  let queries = 0;
  for (let i = 0; i < total; i++) {
    const r = make(i);
    const before = await queriesSent(r.registry);
    const t0 = performance.now();
    lookups += await work(r);
    times.push(performance.now() - t0);
    queries += (await queriesSent(r.registry)) - before;
  }
  console.log(`${label.padEnd(34)} ${(lookups / total).toFixed(1)} list look-ups/msg, ${(queries / total).toFixed(1)} DNS queries sent/msg, ${fmt(times)}`);
}

async function main() {
  const prefix = `bench-reputation-${randomUUID()}:`;
  const state = new RedisState({ url: REDIS_URL, keyPrefix: prefix });
  // The message is parsed in a worker thread, as in the stage.
  const pool = new WorkerPool({
    name: 'reputation',
    module: LINKS_TASK,
    size: 1,
    maxQueued: 16,
    registry: createRegistry(),
    logger: createLogger({ level: 'silent', service: 'bench' }),
  });
  const links = workerLinkReader(pool);
  const contentWork = async (r: ReturnType<typeof testResolver>) => {
    const deps: CheckDeps = { links, dns: r.dns, config: reputation, ours: new Set(['example.test']), local: new LocalLists(reputation), history: null };
    const results = await checkReputation(deps, { meta, raw });
    const summary = results.find((x) => x.check === 'reputation.uribl' && x.outcome === 'info')!;
    return Number(/\b(\d+) look-ups/.exec(summary.reason)![1]);
  };
  const ipWork = async (r: ReturnType<typeof testResolver>) => (await checkClientIp({ dns: r.dns }, '192.0.2.10', connect)).lists.length;

  console.log(`reputation stage, ${total} messages each (${raw.length} bytes, 2 content lists, cap 20 domains), DNS on loopback`);
  await run('content, cold (no cache)', () => testResolver(), contentWork);
  await run('content, warm shared cache (Redis)', () => testResolver({ state }), contentWork);
  const one = testResolver();
  await contentWork(one);
  await run('content, warm memory cache', () => one, contentWork);
  await run('connect DNSBL, cold (2 lists)', () => testResolver(), ipWork);
  const two = testResolver();
  await ipWork(two);
  await run('connect DNSBL, warm memory cache', () => two, ipWork);
  for (const key of await state.scanKeys('', 10_000)) await state.del(key);
  await state.close();
  await pool.close();
}

await main();
