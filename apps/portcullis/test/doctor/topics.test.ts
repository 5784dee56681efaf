import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '@portcullis/bus';
import { parseConfig } from '@portcullis/config';
import { createLogger } from '@portcullis/telemetry';
import { checkTopics } from '../../src/doctor/topics-check.js';
import { createBus, topicSpecs } from '../../src/runtime.js';

const config = parseConfig({ domains: [{ name: 'example.com' }] });

test('a missing topic is named, with how to create it', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 10 });
  const specs = topicSpecs(config);
  await bus.ensureTopics(specs.slice(1));
  const finding = await checkTopics(bus, specs, 1000);
  assert.equal(finding.ok, false);
  assert.equal(finding.detail, `missing: ${specs[0]!.name}`);
  await bus.ensureTopics(specs);
  assert.equal((await checkTopics(bus, specs, 1000)).ok, true);
});

test('Kafka that does not answer is reported within the deadline, not waited for', async () => {
  // Port 9 on loopback: nothing listens, so the connection is refused.
  const kafka = parseConfig({ domains: [{ name: 'example.com' }], bus: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:9'] } } });
  const bus = createBus(kafka, createLogger({ level: 'silent', service: 'test' }));
  const t0 = Date.now();
  const finding = await checkTopics(bus, topicSpecs(kafka), 1500);
  assert.equal(finding.ok, false);
  assert.match(finding.detail, /cannot reach Kafka/);
  assert.ok(Date.now() - t0 < 5000);
  await bus.close().catch(() => {});
});
