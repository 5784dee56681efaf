/**
 * The dead-letter reader on the in-process bus (kept topics in spool files): a record that fails
 * to decode is dead-lettered by a stage, listed and shown without its body, replayed once to its
 * source with its attempts, and comes back to the dead-letter topic when it fails again, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryBus, passThroughStage, runStage } from '@portcullis/bus';
import { parseConfig } from '@portcullis/config';
import { Headers, Topics } from '@portcullis/contract';
import { MemoryState } from '@portcullis/state';
import { createLogger, createRegistry, type AdminHandler } from '@portcullis/telemetry';
import { topicSpecs } from '../src/runtime.js';
import { DeadLetterReader } from '../src/dead-letter/reader.js';
import { deadLetterAdmin } from '../src/dead-letter/admin.js';
import type { ReplayMarker } from '../src/dead-letter/reader.js';
import type { DeadLetterSummary } from '../src/dead-letter/records.js';

const logger = createLogger({ level: 'silent', service: 'test' });
const config = parseConfig({ domains: [{ name: 'example.com' }] });
// Admin answers are JSON of several shapes (list, show, replay, refusal): the fields these tests read.
interface Body {
  records?: (DeadLetterSummary & { replayed?: ReplayMarker })[];
  headers?: Record<string, string>;
  replayed?: ReplayMarker;
  error?: string;
  field?: string;
}

async function setup() {
  const bus = new MemoryBus({ maxRecordsPerTopic: 100, spoolDir: mkdtempSync(join(tmpdir(), 'portcullis-dl-')) });
  await bus.ensureTopics(topicSpecs(config));
  const state = new MemoryState({ maxEntries: 1000 });
  const handler = deadLetterAdmin(new DeadLetterReader({ bus, state, logger }), logger);
  const call = async (method: string, path: string[], opts: { body?: unknown; query?: Record<string, string> } = {}) =>
    (await handler({ method, path, body: opts.body ?? null, query: opts.query ?? {} })) as { status: number; body: Body };
  return { bus, state, call, handler: handler as AdminHandler };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

const BODY = '{"v":1,"secret":"BODY-MUST-NOT-SHOW"}\nraw message';

test('dead-letter on the in-process bus: list, show without the body, replay once with attempts kept, back again on failure, no loop', async () => {
  const { bus, call } = await setup();
  const stage = await runStage(bus, passThroughStage({ name: 'auth', from: Topics.accepted, to: Topics.authChecked, concurrency: 1 }), { logger, registry: createRegistry() });
  // What the budget stage would have counted: two attempts already; the schema error dead-letters it.
  await bus.publish(Topics.accepted, [{ key: 'msg-1', value: Buffer.from(BODY), headers: { [Headers.messageId]: 'msg-1', [Headers.attempts]: '2', keep: 'me' } }]);

  const listed = await until('the dead-lettered record', async () => {
    const res = await call('GET', []);
    return res.body.records?.length === 1 && res;
  });
  assert.equal(listed.status, 200);
  const [first] = listed.body.records ?? [];
  assert.ok(first);
  assert.deepEqual(
    { ...first, time: typeof first.time },
    {
      partition: 0,
      offset: '0',
      time: 'string',
      reason: first.reason,
      sourceTopic: Topics.accepted,
      sourcePartition: '0',
      sourceOffset: '0',
      group: 'portcullis-auth',
      attempts: 2,
      messageId: 'msg-1',
      size: Buffer.byteLength(BODY),
    },
  );
  assert.match(first.reason, /schema|JSON|framing/i);
  assert.doesNotMatch(JSON.stringify(listed.body), /BODY-MUST-NOT-SHOW/);

  const shown = await call('GET', ['0', '0']);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.headers?.[Headers.deadLetterGroup], 'portcullis-auth');
  assert.equal(shown.body.headers?.keep, 'me');
  assert.doesNotMatch(JSON.stringify(shown.body), /BODY-MUST-NOT-SHOW/);

  const replayed = await call('POST', ['0', '0', 'replay'], { body: { by: 'alice' } });
  assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
  assert.equal(replayed.body.replayed?.by, 'alice');
  assert.equal(replayed.body.replayed?.to, Topics.accepted);

  // It fails to decode again: back on the dead-letter topic with its attempts, not dead-letter-* of the first time.
  const again = await until('the record back on the dead-letter topic', async () => {
    const res = await call('GET', [], { query: { from: '1' } });
    return res.body.records?.length === 1 && res.body.records[0];
  });
  assert.equal(again.attempts, 2);
  assert.equal(again.sourceTopic, Topics.accepted);
  assert.equal(again.sourceOffset, '1', 'read from its new place in the source topic');
  const againShown = await call('GET', ['0', '1']);
  assert.equal(againShown.body.headers?.keep, 'me');
  assert.equal((await bus.fetch(Topics.deadLetter, 0, '1'))?.value.toString(), BODY, 'the original bytes');

  const twice = await call('POST', ['0', '0', 'replay'], { body: { by: 'bob' } });
  assert.equal(twice.status, 409);
  assert.match(twice.body.error ?? '', /already replayed .* by alice/);
  const listedAgain = await call('GET', []);
  assert.equal(listedAgain.body.records?.[0]?.replayed?.by, 'alice');

  // Nothing replays on its own: the second dead-letter record stays where it is.
  await delay(500);
  assert.equal((await call('GET', [])).body.records?.length, 2);
  await stage.stop();
  await bus.close();
});

test('dead-letter admin: bad input answers 400 naming the field, a missing record 404, a foreign source 422', async () => {
  const { bus, call } = await setup();
  for (const [path, query, field] of [
    [['x', '0'], {}, 'partition'],
    [['0', '1e3'], {}, 'offset'],
    [[], { limit: '0' }, 'limit'],
    [[], { limit: 'many' }, 'limit'],
    [[], { from: '-1' }, 'from'],
    [[], { partition: 'p' }, 'partition'],
  ] as const) {
    const res = await call('GET', [...path], { query: { ...query } });
    assert.equal(res.status, 400, `${path.join('/')} ${JSON.stringify(query)}`);
    assert.equal(res.body.field, field);
    assert.match(res.body.error ?? '', new RegExp(`^${field}: `));
  }
  assert.equal((await call('GET', ['0', '99'])).status, 404);
  assert.equal((await call('POST', ['0', '99', 'replay'], { body: { by: 'alice' } })).status, 404);
  assert.equal((await call('GET', [], { query: { partition: '7' } })).status, 404);
  assert.deepEqual((await call('GET', [])).body.records, []);

  // A hand-made dead-letter record naming a topic that is not ours, or the dead-letter topic itself.
  await bus.publish(Topics.deadLetter, [
    { key: 'k', value: Buffer.from('x'), headers: { [Headers.deadLetterTopic]: 'somebody.elses.topic', [Headers.deadLetterReason]: 'test' } },
    { key: 'k', value: Buffer.from('x'), headers: { [Headers.deadLetterTopic]: Topics.deadLetter, [Headers.deadLetterReason]: 'test' } },
  ]);
  for (const offset of ['0', '1']) {
    const res = await call('POST', ['0', offset, 'replay'], { body: { by: 'alice' } });
    assert.equal(res.status, 422, JSON.stringify(res.body));
  }
  const badBy = await call('POST', ['0', '0', 'replay'], { body: { by: 'a\u001b[31mb' } });
  assert.equal(badBy.status, 400);
  assert.equal(badBy.body.field, 'by');
  await bus.close();
});
