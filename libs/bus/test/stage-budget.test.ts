import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Topics, Headers, encodeMail, newMessageId, VerdictReply, type MailRecord } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { createLogger, createRegistry, installTracing } from '@portcullis/telemetry';
import { MemoryState } from '@portcullis/state';
import { MessageTraceReader, MessageTraceWriter } from '@portcullis/message-trace';
import { WorkerPool, transferableCopy } from '@portcullis/workers';
import { MemoryBus } from '../src/memory-bus.js';
import { runStage, type StageDefinition } from '../src/stage.js';
import type { InRecord } from '../src/bus.js';

installTracing();
const logger = createLogger({ level: 'silent', service: 'test' });
const traceOptions = { enabled: true, retentionDays: 1, maxEventsPerMessage: 100, maxIndexEntries: 100 };

function mail(subject: string, replyChannel?: string): MailRecord {
  const raw = Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`);
  const meta = sampleMeta({ id: newMessageId(), size: raw.length, envelope: { receivedAt: new Date().toISOString() } });
  if (replyChannel) meta.replyTo = { channel: replyChannel, deadline: new Date(Date.now() + 60_000).toISOString() };
  return { meta, raw };
}

function setup(limits = { budgetMs: 400, maxAttempts: 2 }) {
  const registry = createRegistry();
  const state = new MemoryState();
  const trace = new MessageTraceWriter({ state, logger, registry, options: traceOptions });
  const bus = new MemoryBus({ maxRecordsPerTopic: 100 });
  const deps = { logger, registry, state, trace, config: { stages: limits } };
  return { registry, state, trace, bus, deps };
}

/** Everything on a topic so far, read by a group of its own. */
async function drain(bus: MemoryBus, topic: string, n: number, ms = 15_000): Promise<InRecord[]> {
  const got: InRecord[] = [];
  const sub = await bus.consume({ group: `reader-${topic}-${Math.random()}`, topic, concurrency: 1, handle: async (r) => void got.push(r) });
  const end = Date.now() + ms;
  while (got.length < n && Date.now() < end) await delay(10);
  await sub.stop();
  return got;
}

function stage(process: StageDefinition['process']): StageDefinition {
  return { name: 'reputation', group: 'portcullis-reputation', from: Topics.authChecked, concurrency: 4, budgeted: true, process };
}

const pass = (record: MailRecord) => ({ outputs: [{ topic: Topics.reputationChecked, record }] });

test('a check that loops for ever in a worker is terminated; the record is retried, then tempfailed and dead-lettered; the others go on', async () => {
  const { bus, deps, state, registry } = setup();
  const pool = new WorkerPool({ name: 'stuck', module: new URL('./fixtures/stuck-task.js', import.meta.url), size: 1, maxQueued: 16, registry, logger });
  const sub = await runStage(
    bus,
    stage(async (record, _span, budget) => {
      const { bytes, transfer } = transferableCopy(record.raw);
      await budget.inWorker(pool, 'read', { bytes }, transfer);
      return pass(record);
    }),
    deps,
  );
  const replies: VerdictReply[] = [];
  const unsubscribe = await state.subscribe('verdicts:edge-1', (m) => void replies.push(VerdictReply.parse(JSON.parse(m))));
  try {
    const stuck = mail('stall here', 'verdicts:edge-1');
    const others = [mail('one'), mail('two'), mail('three')];
    const started = Date.now();
    await bus.publish(
      Topics.authChecked,
      [stuck, ...others].map((r) => ({ key: r.meta.id, value: encodeMail(r) })),
    );
    const passed = await drain(bus, Topics.reputationChecked, 3);
    assert.deepEqual(passed.map((r) => r.key).sort(), others.map((r) => r.meta.id).sort(), 'the other records went on while one worker was stuck');
    const [dead] = await drain(bus, Topics.deadLetter, 1);
    assert.ok(dead, 'the stuck record reached the dead-letter topic');
    assert.ok(Date.now() - started >= 800, 'two attempts of 400 ms each');
    assert.equal(dead.key, stuck.meta.id);
    assert.ok(dead.value.equals(encodeMail(stuck)), 'the original bytes, untouched');
    assert.equal(dead.headers[Headers.attempts], '2');
    assert.match(dead.headers[Headers.deadLetterReason] ?? '', /reputation stage gave up after 2 attempts: over its budget of 400 ms/);
    assert.equal(dead.headers[Headers.deadLetterGroup], 'portcullis-reputation');
    for (let i = 0; i < 100 && replies.length === 0; i++) await delay(10);
    assert.equal(replies.length, 1, 'the waiting edge was told');
    assert.equal(replies[0]!.id, stuck.meta.id);
    assert.equal(replies[0]!.verdict.action, 'tempfail');
    assert.equal(replies[0]!.verdict.enhancedCode, '4.3.0');
    const metrics = await registry.metrics();
    assert.match(metrics, /portcullis_stage_given_up_total\{stage="reputation",reason="budget"\} 1/);
    assert.match(metrics, /portcullis_worker_kills_total\{pool="stuck",reason="budget"\} 2/);
    // The pool replaced its worker: a normal record still passes.
    const after = mail('after');
    await bus.publish(Topics.authChecked, [{ key: after.meta.id, value: encodeMail(after) }]);
    assert.equal((await drain(bus, Topics.reputationChecked, 1))[0]?.key, after.meta.id);
  } finally {
    await unsubscribe();
    await sub.stop();
    await pool.close();
  }
});

test('a check whose promise never settles is given up at the budget, written to the trace; earlier attempts are added', async () => {
  const { bus, deps, state, trace } = setup({ budgetMs: 300, maxAttempts: 3 });
  const sub = await runStage(
    bus,
    stage(async (record) => {
      if (record.raw.includes('Subject: stall')) await new Promise(() => {});
      return pass(record);
    }),
    deps,
  );
  try {
    const stuck = mail('stall');
    const ok = mail('fine');
    // A record replayed by the operator after two earlier attempts.
    await bus.publish(Topics.authChecked, [
      { key: stuck.meta.id, value: encodeMail(stuck), headers: { [Headers.attempts]: '2' } },
      { key: ok.meta.id, value: encodeMail(ok) },
    ]);
    const [dead] = await drain(bus, Topics.deadLetter, 1);
    assert.equal(dead?.key, stuck.meta.id);
    assert.equal(dead?.headers[Headers.attempts], '5', '2 earlier + 3 now');
    assert.equal((await drain(bus, Topics.reputationChecked, 1))[0]?.key, ok.meta.id);
    await trace.flush();
    const timeline = await new MessageTraceReader(state).timeline(stuck.meta.id);
    assert.equal(timeline?.summary?.outcome, 'dead-lettered');
    const event = timeline?.events.find((e) => e.event === 'given up');
    assert.equal(event?.stage, 'reputation');
    assert.equal(event?.outcome, 'dead-letter', 'no edge was waiting for this one');
    assert.match(event?.detail ?? '', /over its budget of 300 ms.*attempts 5/);
  } finally {
    await sub.stop();
  }
});

test('over budget once, then in time: the record passes and nothing is dead-lettered', async () => {
  const { bus, deps } = setup({ budgetMs: 300, maxAttempts: 3 });
  let calls = 0;
  const sub = await runStage(
    bus,
    stage(async (record) => {
      if (++calls === 1) await delay(2_000);
      return pass(record);
    }),
    deps,
  );
  try {
    const r = mail('slow once');
    await bus.publish(Topics.authChecked, [{ key: r.meta.id, value: encodeMail(r) }]);
    assert.equal((await drain(bus, Topics.reputationChecked, 1))[0]?.key, r.meta.id);
    assert.equal(calls, 2);
    assert.equal((await drain(bus, Topics.deadLetter, 1, 300)).length, 0);
  } finally {
    await sub.stop();
  }
});

test('a dependency error is not a budget: retried in place, never dead-lettered', async () => {
  const { bus, deps } = setup({ budgetMs: 5_000, maxAttempts: 1 });
  let calls = 0;
  const sub = await runStage(
    bus,
    stage(async (record) => {
      if (++calls <= 3) throw new Error('DNS server unreachable');
      return pass(record);
    }),
    deps,
  );
  try {
    const r = mail('dependency down');
    await bus.publish(Topics.authChecked, [{ key: r.meta.id, value: encodeMail(r) }]);
    assert.equal((await drain(bus, Topics.reputationChecked, 1))[0]?.key, r.meta.id);
    assert.equal(calls, 4);
    assert.equal((await drain(bus, Topics.deadLetter, 1, 300)).length, 0);
  } finally {
    await sub.stop();
  }
});

test('an extra check (stages.extraChecks) runs before the stage and its results join the record', async () => {
  const { bus, deps } = setup({ budgetMs: 5_000, maxAttempts: 1 });
  const sub = await runStage(
    bus,
    stage(async (record) => pass(record)),
    {
      ...deps,
      extraChecks: [
        async (record) => [{ stage: 'reputation', check: 'site.rule', outcome: 'info', reason: `saw ${record.meta.size} octets`, score: 1, at: new Date().toISOString() }],
      ],
    },
  );
  try {
    const r = mail('extra');
    await bus.publish(Topics.authChecked, [{ key: r.meta.id, value: encodeMail(r) }]);
    const [out] = await drain(bus, Topics.reputationChecked, 1);
    assert.ok(out);
    assert.match(out.value.toString('latin1'), /"check":"site\.rule"/);
  } finally {
    await sub.stop();
  }
});
