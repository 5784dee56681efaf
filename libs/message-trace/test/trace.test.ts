import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryState, type SharedState } from '@portcullis/state';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { MessageTraceReader, MessageTraceWriter, type TraceSummary } from '../src/index.js';

const options = { enabled: true, retentionDays: 1, maxEventsPerMessage: 3, maxIndexEntries: 100 };
const logger = createLogger({ level: 'silent', service: 'test' });

function summary(id: string, over: Partial<TraceSummary> = {}): TraceSummary {
  return {
    id,
    messageId: `${id}@example.net`,
    from: 'a@example.net',
    rcpt: ['u@example.test'],
    clientIp: '192.0.2.1',
    receivedAt: '2030-01-01T10:00:00.000Z',
    outcome: 'accepted',
    outcomeAt: '2030-01-01T10:00:00.000Z',
    ...over,
  };
}

test('a timeline is kept in time order, capped, and found by every index', async () => {
  const state = new MemoryState({ maxEntries: 1000 });
  const writer = new MessageTraceWriter({ state, logger, registry: createRegistry(), options });
  const reader = new MessageTraceReader(state);
  writer.summary(summary('M1'), { index: true });
  writer.summary(summary('M2', { from: 'b@example.net', clientIp: '198.51.100.7', rcpt: ['v@example.test'] }), { index: true });
  writer.events(
    'M1',
    ['10:00:01', '10:00:02', '10:00:03', '10:00:04'].map((t, i) => ({ at: `2030-01-01T${t}.000Z`, stage: 'relay', event: `e${i}`, detail: '' })),
  );
  await writer.flush();

  const once = { at: '2030-01-01T10:00:00.500Z', stage: 'edge', event: 'accepted', detail: '' };
  writer.events('M2', [once], { once: 'first' });
  writer.events('M2', [once], { once: 'first' });
  await writer.flush();
  assert.equal((await reader.timeline('M2'))?.events.length, 1, 'once: written one time only');
  const t = await reader.timeline('M1');
  assert.deepEqual(
    t?.events.map((e) => e.event),
    ['e1', 'e2', 'e3'],
    'oldest dropped beyond the cap, rest in order',
  );
  assert.equal(t?.summary?.from, 'a@example.net');
  assert.deepEqual(
    (await reader.search({ from: 'B@example.net' })).map((s) => s.id),
    ['M2'],
  );
  assert.deepEqual(
    (await reader.search({ rcpt: 'u@example.test' })).map((s) => s.id),
    ['M1'],
  );
  assert.deepEqual(
    (await reader.search({ ip: '198.51.100.7' })).map((s) => s.id),
    ['M2'],
  );
  assert.deepEqual(
    (await reader.search({ messageId: '<M1@example.net>' })).map((s) => s.id),
    ['M1'],
  );
  assert.deepEqual((await reader.search({ since: '2030-01-01T09:00:00Z', until: '2030-01-01T11:00:00Z' })).map((s) => s.id).sort(), ['M1', 'M2']);
  assert.deepEqual(await reader.search({ since: '2030-01-02T09:00:00Z', until: '2030-01-02T11:00:00Z' }), []);
  assert.equal(await reader.timeline('nothing'), null);
});

test('a failing store never throws to the caller: the failure is counted', async () => {
  const registry = createRegistry();
  const broken = new Proxy(new MemoryState({ maxEntries: 10 }), {
    get: (target, prop) =>
      prop === 'set' || prop === 'listPush'
        ? async () => {
            throw new Error('down');
          }
        : (Reflect.get(target, prop) as unknown),
  }) as SharedState;
  const writer = new MessageTraceWriter({ state: broken, logger, registry, options });
  writer.summary(summary('M1'), { index: true });
  writer.events('M1', [{ at: '2030-01-01T10:00:00.000Z', stage: 'relay', event: 'x', detail: '' }]);
  await writer.flush();
  assert.match(await registry.metrics(), /portcullis_message_trace_write_failures_total\{reason="store"\} 2/);
});
