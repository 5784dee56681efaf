/**
 * Readiness follows the shared dependencies, over the real broker and a Redis of the test's own:
 *  - Redis stopped: the relay (a stage that needs it) reports not-ready within seconds and ready
 *    again when Redis is back; the edge stays ready (its Service must not empty: senders would get
 *    refused connections instead of 451), keeps greeting, and shows the outage in /healthz's
 *    details and in portcullis_dependency_up;
 *  - the broker stopped and started: the same for Kafka, and a message sent meanwhile is answered
 *    451 (it cannot be stored);
 *  - every line both processes wrote meanwhile is JSON: kafkajs's own logging, and a Node process
 *    warning (emitted inside the relay by a preloaded module), come out as JSON lines with a component.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { OwnRedis } from '../support/redis-server.js';
import { kafkaCtl } from '../support/kafka.js';
import { waitFor } from '../support/wait.js';
import { makeMessage, sendRaw } from '../support/smtp.js';

interface Health {
  status: string;
  dependencies?: Record<string, { up: boolean; problem?: string }>;
}

const get = async (p: GatewayProcess, path: string) => fetch(`http://127.0.0.1:${p.options.httpPort}${path}`).catch(() => null);
const readyz = async (p: GatewayProcess) => (await get(p, '/readyz'))?.status ?? 0;
const healthz = async (p: GatewayProcess) => (await (await get(p, '/healthz'))!.json()) as Health;
const dependencyUp = async (p: GatewayProcess, name: string) => Number(new RegExp(`^portcullis_dependency_up\\{dependency="${name}"\\} (\\d)`, 'm').exec(await p.metrics())?.[1]);

/** The first line the SMTP listener sends. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(10_000, () => s.destroy(new Error('no greeting')));
    s.once('data', (d) => {
      resolve(d.toString().split('\r\n')[0]!);
      s.end('QUIT\r\n');
      setTimeout(() => s.destroy(), 1000).unref();
    });
    s.once('error', reject);
  });
}

describe('readiness and shared dependencies', { timeout: 600_000 }, () => {
  const redis = new OwnRedis();
  let edge: GatewayProcess;
  let relay: GatewayProcess;
  let smtpPort: number;
  const figures: string[] = [];

  /** Waits for the stage to go not-ready while sampling that the edge stays ready; returns ms until not-ready. */
  const outage = async (what: string): Promise<number> => {
    const t0 = Date.now();
    await waitFor(
      `relay not ready without ${what}`,
      async () => {
        assert.equal(await readyz(edge), 200, `the edge stays ready without ${what}`);
        return (await readyz(relay)) === 503;
      },
      60_000,
      200,
    );
    return Date.now() - t0;
  };

  before(async () => {
    await redis.start();
    smtpPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-ready-'));
    const warn = join(dir, 'warn.mjs');
    // A real process warning, as kafkajs's TimeoutNegativeWarning is: emitted once the process runs.
    writeFileSync(warn, "setTimeout(() => process.emitWarning('a test warning', 'TestWarning'), 4000).unref();\n");
    const common = { smtpPort, distributed: true, redis: { url: redis.url, keyPrefix: `ready-${Date.now().toString(36)}:` } };
    relay = new GatewayProcess('relay-ready', { ...common, services: ['relay'], httpPort: await freePort(), env: { NODE_OPTIONS: `--import ${warn}` } });
    edge = new GatewayProcess('edge-ready', { ...common, services: ['edge'], httpPort: await freePort() });
    await relay.start();
    await edge.start();
  });

  after(async () => {
    await kafkaCtl('start').catch(() => undefined); // for the test files after this one, if a test failed midway
    await Promise.all([edge?.stop(), relay?.stop()]);
    await redis.stop();
    console.log(`# ${figures.join('; ')}`);
  });

  it('Redis: the relay goes not-ready and back, the edge stays ready and says what is down', async () => {
    assert.equal(await dependencyUp(edge, 'redis'), 1);
    await redis.stop();
    figures.push(`relay not ready ${await outage('Redis')} ms after Redis stopped`);
    const h = await healthz(edge);
    assert.equal(h.status, 'ok');
    assert.equal(h.dependencies?.redis?.up, false, JSON.stringify(h));
    assert.equal(h.dependencies?.kafka?.up, true, JSON.stringify(h));
    assert.equal(await dependencyUp(edge, 'redis'), 0);
    assert.equal(await dependencyUp(relay, 'redis'), 0);
    assert.match(await greeting(smtpPort), /^220 /, 'the edge still takes connections');
    await redis.start();
    const t0 = Date.now();
    await waitFor('relay ready with Redis back', async () => (await readyz(relay)) === 200, 60_000, 200);
    figures.push(`ready again ${Date.now() - t0} ms after Redis started`);
    await waitFor('edge sees Redis up', async () => (await healthz(edge)).dependencies?.redis?.up, 30_000, 200);
    assert.equal(await dependencyUp(edge, 'redis'), 1);
  });

  it('Kafka: the relay goes not-ready and back, the edge stays ready and says what is down', async () => {
    await kafkaCtl('stop');
    figures.push(`relay not ready ${await outage('Kafka')} ms after the broker stopped`);
    const h = await healthz(edge);
    assert.equal(h.dependencies?.kafka?.up, false, JSON.stringify(h));
    assert.equal(await dependencyUp(edge, 'kafka'), 0);
    assert.match(await greeting(smtpPort), /^220 /, 'the edge still takes connections');
    const sent = await sendRaw(smtpPort, makeMessage(`kafka outage ${Date.now()}`));
    assert.equal(sent.code, 451, `a message is answered 451 while it cannot be stored: ${sent.response}`);
    await kafkaCtl('start');
    const t0 = Date.now();
    await waitFor('relay ready with Kafka back', async () => (await readyz(relay)) === 200, 120_000, 200);
    figures.push(`ready again ${Date.now() - t0} ms after the broker was up`);
    await waitFor('edge sees Kafka up', async () => (await healthz(edge)).dependencies?.kafka?.up, 30_000, 200);
  });

  it('every log line is JSON, kafkajs and Node warnings included', async () => {
    for (const p of [relay, edge]) {
      const lines = readFileSync(p.logPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim());
      const bad = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      assert.deepEqual(bad.slice(0, 5), [], `${p.name}: lines that are not JSON`);
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        parsed.some((l) => l.component === 'kafka'),
        `${p.name}: kafka lines carry their component`,
      );
      assert.ok(!parsed.some((l) => /partitioner/i.test(String(l.msg))), `${p.name}: no partitioner notice`);
    }
    const relayLines = readFileSync(relay.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      relayLines.some((l) => l.component === 'node' && l.warning === 'TestWarning' && l.msg === 'a test warning'),
      'the process warning is a JSON line',
    );
  });
});
