import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Topics, Headers, encodeMail, decodeMail, newMessageId, type MailRecord } from '@portcullis/contract';
import { createLogger, createRegistry, installTracing } from '@portcullis/telemetry';
import { sampleMeta } from '@portcullis/contract/testing';
import { MemoryBus } from '../src/memory-bus.js';
import { passThroughStage, runStage } from '../src/stage.js';
import type { InRecord } from '../src/bus.js';

installTracing();
const deps = { logger: createLogger({ level: 'silent', service: 'test' }), registry: createRegistry() };

function mail(): MailRecord {
  const raw = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  return { meta: sampleMeta({ id: newMessageId(), size: raw.length, envelope: { receivedAt: new Date().toISOString() } }), raw };
}

async function collect(bus: MemoryBus, topic: string, n: number): Promise<InRecord[]> {
  const got: InRecord[] = [];
  const sub = await bus.consume({ group: `reader-${topic}`, topic, concurrency: 1, handle: async (r) => void got.push(r) });
  for (let i = 0; i < 500 && got.length < n; i++) await delay(5);
  await sub.stop();
  return got;
}

test('a stage continues the trace of the record it read (W3C traceparent in headers)', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const sub = await runStage(bus, passThroughStage({ name: 'auth', from: Topics.accepted, to: Topics.authChecked, concurrency: 1 }), deps);
  const record = mail();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  await bus.publish(Topics.accepted, [{ key: record.meta.id, value: encodeMail(record), headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } }]);
  const [out] = await collect(bus, Topics.authChecked, 1);
  await sub.stop();
  assert.ok(out, 'the stage published its output');
  const tp = out.headers[Headers.traceparent] ?? '';
  assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.equal(tp.split('-')[1], traceId, 'same trace');
  assert.notEqual(tp.split('-')[2], '00f067aa0ba902b7', 'a new span of its own');
  assert.equal(out.headers[Headers.messageId], record.meta.id);
  const decoded = decodeMail(Topics.authChecked, out.value);
  assert.ok(decoded.raw.equals(record.raw));
});

test('an unreadable record goes to the dead-letter topic with the reason, and the next one is processed', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const sub = await runStage(bus, passThroughStage({ name: 'auth', from: Topics.accepted, to: Topics.authChecked, concurrency: 1 }), deps);
  const good = mail();
  await bus.publish(Topics.accepted, [
    { key: 'bad', value: Buffer.from('{"v":1}\nraw') },
    { key: good.meta.id, value: encodeMail(good) },
  ]);
  const [dead] = await collect(bus, Topics.deadLetter, 1);
  const [passed] = await collect(bus, Topics.authChecked, 1);
  await sub.stop();
  assert.equal(dead?.key, 'bad');
  assert.equal(dead?.value.toString(), '{"v":1}\nraw');
  assert.equal(dead?.headers[Headers.deadLetterTopic], Topics.accepted);
  assert.equal(dead?.headers[Headers.deadLetterGroup], 'portcullis-auth');
  assert.match(dead?.headers[Headers.deadLetterReason] ?? '', /schema/);
  assert.equal(passed?.key, good.meta.id);
});

test('a stage marked newTracePerRecord starts a new trace (retries must not stretch one trace over hours)', async () => {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const stage = { ...passThroughStage({ name: 'retry', from: Topics.accepted, to: Topics.authChecked, concurrency: 1 }), newTracePerRecord: true };
  const sub = await runStage(bus, stage, deps);
  const record = mail();
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  await bus.publish(Topics.accepted, [{ key: record.meta.id, value: encodeMail(record), headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } }]);
  const [out] = await collect(bus, Topics.authChecked, 1);
  await sub.stop();
  const tp = out?.headers[Headers.traceparent] ?? '';
  assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.notEqual(tp.split('-')[1], traceId);
});
