import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { createLogger, createRegistry } from '@portcullis/telemetry';
import { BudgetExceededError, PoolBusyError, TaskThrewError, WorkerCrashedError, WorkerPool, transferableCopy } from '../src/index.js';

const TASKS = new URL('./fixtures/tasks.js', import.meta.url);
const logger = createLogger({ level: 'silent', service: 'test' });

function pool(size = 2, extra: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) {
  const registry = createRegistry();
  return { registry, pool: new WorkerPool({ name: 'test', module: TASKS, size, maxQueued: 16, registry, logger, ...extra }) };
}

async function metric(registry: ReturnType<typeof createRegistry>, line: RegExp): Promise<number> {
  const m = (await registry.metrics()).split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : 0;
}

test('a task that loops forever is terminated at its budget, and the pool goes on serving', async () => {
  const { pool: p, registry } = pool(1);
  try {
    const started = Date.now();
    await assert.rejects(p.run('spin', {}, { budgetMs: 300 }), BudgetExceededError);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 10_000, `rejected after ${took} ms`);
    // The only worker was terminated; a new one answers.
    assert.equal(await p.run('add', { a: 2, b: 3 }, { budgetMs: 10_000 }), 5);
    assert.equal(await metric(registry, /^portcullis_worker_kills_total\{pool="test",reason="budget"\}/), 1);
  } finally {
    await p.close();
  }
});

test('while one worker spins, the others serve and the main thread is never blocked', async () => {
  const { pool: p } = pool(2);
  try {
    const stuck = p.run('spin', {}, { budgetMs: 1500 });
    const answers: number[] = [];
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    for (let i = 0; i < 20; i++) answers.push(await p.run<number>('add', { a: i, b: 1 }, { budgetMs: 10_000 }));
    await assert.rejects(stuck, BudgetExceededError);
    clearInterval(ticker);
    assert.deepEqual(
      answers,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.ok(ticks > 20, `the main thread's timers ran (${ticks} ticks in 1.5 s)`);
  } finally {
    await p.close();
  }
});

test('a task whose promise never settles is ended at its budget too', async () => {
  const { pool: p } = pool(1);
  try {
    await assert.rejects(p.run('hang', {}, { budgetMs: 200 }), BudgetExceededError);
    assert.equal(await p.run('add', { a: 1, b: 1 }, { budgetMs: 10_000 }), 2);
  } finally {
    await p.close();
  }
});

test('aborting the signal terminates a running task and drops a queued one', async () => {
  const { pool: p } = pool(1);
  try {
    const controller = new AbortController();
    const running = p.run('spin', {}, { budgetMs: 60_000, signal: controller.signal });
    const queued = p.run('add', { a: 1, b: 2 }, { budgetMs: 60_000, signal: controller.signal });
    await delay(100);
    assert.equal(p.load.queued, 1);
    const reason = new BudgetExceededError('the record', 100);
    controller.abort(reason);
    await assert.rejects(running, (e) => e === reason);
    await assert.rejects(queued, (e) => e === reason);
    assert.equal(p.load.queued, 0);
    assert.equal(await p.run('add', { a: 1, b: 2 }, { budgetMs: 10_000 }), 3);
  } finally {
    await p.close();
  }
});

test('a worker that runs out of its heap limit fails its task and is replaced', async () => {
  const { pool: p, registry } = pool(1, { maxHeapMb: 32 });
  try {
    await assert.rejects(p.run('hog', {}, { budgetMs: 60_000 }), (e) => e instanceof WorkerCrashedError && e.reason === 'memory');
    assert.equal(await p.run('add', { a: 4, b: 4 }, { budgetMs: 10_000 }), 8);
    assert.equal(await metric(registry, /^portcullis_worker_kills_total\{pool="test",reason="memory"\}/), 1);
  } finally {
    await p.close();
  }
});

test('an uncaught exception kills the worker: the call fails, the pool replaces it', async () => {
  const { pool: p } = pool(1);
  try {
    await assert.rejects(p.run('crash', {}, { budgetMs: 10_000 }), (e) => e instanceof WorkerCrashedError && e.reason === 'crash');
    assert.equal(await p.run('add', { a: 5, b: 5 }, { budgetMs: 10_000 }), 10);
  } finally {
    await p.close();
  }
});

test('a task that throws rejects its call; the worker stays', async () => {
  const { pool: p, registry } = pool(1);
  try {
    await assert.rejects(p.run('fail', {}, { budgetMs: 10_000 }), (e) => e instanceof TaskThrewError && /bad input/.test(e.message));
    assert.equal(await p.run('add', { a: 1, b: 0 }, { budgetMs: 10_000 }), 1);
    assert.equal(await metric(registry, /^portcullis_worker_kills_total/), 0);
  } finally {
    await p.close();
  }
});

test('the message is moved to the worker, not copied again; the record keeps its own bytes', async () => {
  const { pool: p } = pool(1);
  try {
    const record = Buffer.alloc(3 * 1024 * 1024, 0x61);
    record[record.length - 1] = 0x7a;
    const { bytes, transfer } = transferableCopy(record);
    const seen = await p.run<{ length: number; first: number; last: number }>('inspect', { bytes }, { budgetMs: 10_000, transfer });
    assert.deepEqual(seen, { length: record.length, first: 0x61, last: 0x7a });
    assert.equal(transfer[0]!.byteLength, 0, 'the copy was transferred (detached here)');
    assert.equal(record.length, 3 * 1024 * 1024, 'the record buffer is intact');
    assert.equal(record[0], 0x61);
    const back = await p.run<{ bytes: Uint8Array }>('make', { size: 1024 }, { budgetMs: 10_000 });
    assert.equal(back.bytes.byteLength, 1024);
    assert.equal(back.bytes[10], 7);
  } finally {
    await p.close();
  }
});

test('the queue is bounded: one more waiting task is refused, the waiting ones run in turn', async () => {
  const registry = createRegistry();
  const p = new WorkerPool({ name: 'small', module: TASKS, size: 1, maxQueued: 2, registry, logger });
  try {
    const busy = p.run('hang', {}, { budgetMs: 500 });
    const waiting = [p.run('add', { a: 1, b: 1 }, { budgetMs: 10_000 }), p.run('add', { a: 2, b: 2 }, { budgetMs: 10_000 })];
    await assert.rejects(p.run('add', { a: 3, b: 3 }, { budgetMs: 10_000 }), PoolBusyError);
    assert.equal(await metric(registry, /^portcullis_worker_queue_depth\{pool="small"\}/), 2);
    await assert.rejects(busy, BudgetExceededError);
    assert.deepEqual(await Promise.all(waiting), [2, 4]);
  } finally {
    await p.close();
  }
});

test('a worker thread runs below the main thread in the scheduler (Linux)', { skip: process.platform !== 'linux' && 'thread priorities are set on Linux only' }, async () => {
  const { pool: p } = pool(1);
  try {
    const mainTid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const got = await p.run<{ tid: number; priority: number }>('priority', {}, { budgetMs: 10_000 });
    assert.notEqual(got.tid, mainTid);
    assert.equal(got.priority, Math.min(19, getPriority(mainTid) + 10));
    // Only the worker's thread: the main thread keeps its own.
    assert.equal(getPriority(mainTid), getPriority(0));
  } finally {
    await p.close();
  }
});
