/**
 * A topic the broker will never create stops the start at once, with the broker's reason in one
 * line naming the topic, instead of two minutes of "bus not reachable yet". The single test broker
 * refuses a replication factor of 3 for real (INVALID_REPLICATION_FACTOR); one topic is missing
 * for it to refuse (the last retry tier, which no test process consumes; the next process that
 * starts with replicationFactor 1 creates it again).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { RetryTierTopics } from '@portcullis/contract';
import { configYaml, freePort } from '../support/gateway.js';
import { CLI, DNS_SERVER, KAFKA_BROKERS, ROOT } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

describe('topic creation that cannot succeed', { timeout: 180_000 }, () => {
  it('stops the process at start with the broker reason, naming the topic', async () => {
    const topic = RetryTierTopics.at(-1)!;
    const admin = new Kafka({ clientId: 'topic-refusal-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      if ((await admin.listTopics()).includes(topic)) {
        await admin.deleteTopics({ topics: [topic] });
        await waitFor(`${topic} deleted`, async () => !(await admin.listTopics()).includes(topic), 60_000, 500);
      }
    } finally {
      await admin.disconnect();
    }
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-refusal-'));
    const config = join(dir, 'portcullis.yaml');
    const yaml = configYaml({ services: ['auth'], smtpPort: await freePort(), httpPort: await freePort(), distributed: true });
    writeFileSync(config, yaml.replace('replicationFactor: 1', 'replicationFactor: 3'));
    const t0 = Date.now();
    const out = await run(process.execPath, [CLI, 'run', 'auth', '--config', config], {
      cwd: ROOT,
      timeout: 100_000,
      env: { ...process.env, PORTCULLIS_DNS_SERVERS: DNS_SERVER },
    }).then(
      () => assert.fail('the process should not have started'),
      (err: { code: number; stdout: string; stderr: string; killed: boolean }) => err,
    );
    const ms = Date.now() - t0;
    assert.equal(out.killed, false, 'it stopped by itself');
    assert.equal(out.code, 1);
    const lines = out.stdout.split('\n').filter((l) => l.trim());
    assert.ok(!lines.some((l) => l.includes('not reachable yet')), 'no wait for a broker that answered');
    const fatal = lines.map((l) => JSON.parse(l) as { level: number; error?: string }).filter((l) => l.level === 60);
    assert.equal(fatal.length, 1, out.stdout);
    assert.match(
      fatal[0]!.error!,
      new RegExp(`^cannot create topic ${topic.replace(/\./g, '\\.')}: INVALID_REPLICATION_FACTOR .*replicationFactor is 3 and the cluster has 1 broker\\(s\\)`),
    );
    console.log(`# stopped after ${ms} ms: ${fatal[0]!.error}`);
  });
});
