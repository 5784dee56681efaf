import { Headers, verdict, type MailRecord, type VerdictReply } from '@portcullis/contract';
import { Counter, endSpan, type Logger, type Registry, type Span } from '@portcullis/telemetry';
import { BudgetExceededError, type TaskFailure, type WorkerPool } from '@portcullis/workers';
import type { InRecord } from './bus.js';

export interface StageLimits {
  budgetMs: number;
  maxAttempts: number;
}

/** What the runner needs of the shared state (SharedState fits). */
export interface StageState {
  publish(channel: string, message: string): Promise<void>;
  incr(key: string, ttlSeconds: number): Promise<number>;
  del(key: string): Promise<boolean>;
}

/** What the runner writes to the message trace (MessageTraceWriter fits). */
export interface StageTrace {
  summary(s: { id: string; from: string; rcpt: string[]; clientIp: string; receivedAt: string; outcome: string; outcomeAt: string }, opts?: { index?: boolean }): void;
  events(id: string, events: Array<{ at: string; stage: string; event: string; outcome?: string; detail: string }>): void;
}

/** The budget of one attempt at one record, handed to the stage's work. */
export interface RecordBudget {
  /** Aborted (reason: a BudgetExceededError) when the budget is spent: give it to every worker call. */
  signal: AbortSignal;
  /** Time left. */
  remainingMs(): number;
  /**
   * Runs a task of a worker pool within this budget. The clock stops while the task waits for a
   * free worker: that wait is the pool's back-pressure (another record may hold the worker until
   * it is terminated), not this record's doing.
   */
  inWorker<T>(pool: WorkerPool, task: string, input: unknown, transfer?: ArrayBuffer[]): Promise<T>;
}

/** No budget (stages that are not budgeted): worker tasks still get the pool's own bound. */
export function unbounded(budgetMs = 60_000): RecordBudget {
  const signal = new AbortController().signal;
  return {
    signal,
    remainingMs: () => budgetMs,
    inWorker: (pool, task, input, transfer) => pool.run(task, input, { budgetMs, signal, ...(transfer ? { transfer } : {}) }),
  };
}

/**
 * Runs one attempt within budgetMs. When the time is up the signal is aborted, which terminates
 * the worker running the record's CPU work, and the attempt fails with BudgetExceededError even
 * if some async work has not settled: that work is abandoned, which is harmless because it only
 * waits (CPU work runs in workers, and each I/O has a timeout of its own).
 */
export async function recordBudget<T>(stage: string, budgetMs: number, work: (budget: RecordBudget) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let fail!: (err: Error) => void;
  const over = new Promise<never>((_, reject) => (fail = reject));
  // A clock that stops while a worker task of this record waits in its pool's queue.
  let used = 0;
  let since = Date.now();
  let waiting = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(
      () => {
        const err = new BudgetExceededError(`the ${stage} stage's work on one record`, budgetMs);
        controller.abort(err);
        fail(err);
      },
      Math.max(0, budgetMs - used),
    );
  };
  const remainingMs = (): number => Math.max(1, budgetMs - used - (waiting > 0 ? 0 : Date.now() - since));
  const pause = (): void => {
    if (waiting++ > 0) return;
    used += Date.now() - since;
    clearTimeout(timer);
  };
  const resume = (): void => {
    if (--waiting > 0 || controller.signal.aborted) return;
    since = Date.now();
    arm();
  };
  const budget: RecordBudget = {
    signal: controller.signal,
    remainingMs,
    inWorker: async (pool, task, input, transfer) => {
      pause();
      let started = false;
      try {
        return await pool.run(task, input, {
          budgetMs: remainingMs,
          signal: controller.signal,
          onStart: () => {
            started = true;
            resume();
          },
          ...(transfer ? { transfer } : {}),
        });
      } finally {
        if (!started) resume();
      }
    },
  };
  arm();
  const running = work(budget);
  running.catch(() => {}); // abandoned past the budget: its late failure is of no interest
  try {
    return await Promise.race([running, over]);
  } finally {
    clearTimeout(timer);
    waiting = Number.POSITIVE_INFINITY; // nothing re-arms the clock after the attempt
  }
}

const ATTEMPT_TTL_SECONDS = 24 * 3600;
const MAX_LOCAL = 10_000;

/**
 * Attempts over budget per record (group, topic, partition, offset). Counted in the shared state
 * so that replicas taking the record in turn (after a rebalance or a crash) add to one count and
 * the record ends in the dead-letter topic instead of stalling each replica in turn; a local count
 * stands in when the state cannot be reached.
 */
export class AttemptLedger {
  private readonly local = new Map<string, number>();

  constructor(
    private readonly group: string,
    private readonly state?: StageState,
  ) {}

  private key(rec: InRecord): string {
    return `stage-attempts:${this.group}:${rec.topic}:${rec.partition}:${rec.offset}`;
  }

  /** Counts one more attempt; returns the attempts so far. */
  async add(rec: InRecord): Promise<number> {
    const key = this.key(rec);
    const here = (this.local.get(key) ?? 0) + 1;
    this.local.delete(key);
    this.local.set(key, here);
    if (this.local.size > MAX_LOCAL) this.local.delete(this.local.keys().next().value!);
    const shared = this.state ? await this.state.incr(key, ATTEMPT_TTL_SECONDS).catch(() => 0) : 0;
    return Math.max(here, shared);
  }

  clear(rec: InRecord): void {
    const key = this.key(rec);
    if (!this.local.delete(key)) return;
    void this.state?.del(key).catch(() => false);
  }
}

interface OverBudgetMetrics {
  givenUp: Counter<'stage' | 'reason'>;
}
const memo = new WeakMap<Registry, OverBudgetMetrics>();
function overBudgetMetrics(registry: Registry): OverBudgetMetrics {
  let m = memo.get(registry);
  if (!m) {
    m = {
      givenUp: new Counter({
        name: 'portcullis_stage_given_up_total',
        help: 'Records a stage gave up on after its last attempt (answered tempfail, dead-lettered), by reason: budget, memory, crash, error',
        labelNames: ['stage', 'reason'],
        registers: [registry],
      }),
    };
    memo.set(registry, m);
  }
  return m;
}

/** The reason in the operator's words; never the worker's own message (it could quote the mail). */
export function failureText(f: TaskFailure, budgetMs: number): string {
  switch (f.reason) {
    case 'budget':
      return `over its budget of ${budgetMs} ms`;
    case 'memory':
      return 'its parsing worker ran out of memory';
    case 'crash':
      return 'its parsing worker died';
    case 'error':
      return 'a check failed with an error';
  }
}

/**
 * After the last attempt: the record goes to the dead-letter topic (with the reason and the
 * attempts, added to those of earlier trips), the span and the message trace say why, a metric
 * counts it, and the edge, if it is still waiting, is told tempfail (451 4.3.0): the sender tries
 * again later, and the relay never delivers a message whose fate is tempfailed.
 */
export async function giveUp(o: {
  /** Publishes the record to the dead-letter topic with this reason and these extra headers. */
  deadLetter: (reason: string, headers: Record<string, string>) => Promise<void>;
  stage: string;
  rec: InRecord;
  record: MailRecord;
  span: Span;
  failure: TaskFailure;
  attempts: number;
  budgetMs: number;
  deps: { registry: Registry; state?: StageState; trace?: StageTrace };
  log: Logger;
}): Promise<void> {
  const earlier = Number(o.rec.headers[Headers.attempts] ?? 0);
  const total = (Number.isFinite(earlier) && earlier > 0 ? Math.floor(earlier) : 0) + o.attempts;
  const why = failureText(o.failure, o.budgetMs);
  const reason = `${o.stage} stage gave up after ${o.attempts} attempts: ${why}`;
  await o.deadLetter(reason, { [Headers.attempts]: String(total) });
  overBudgetMetrics(o.deps.registry).givenUp.inc({ stage: o.stage, reason: o.failure.reason });
  const { meta } = o.record;
  const now = new Date();
  const replyTo = meta.replyTo;
  const edgeWaiting = replyTo !== undefined && Date.parse(replyTo.deadline) > now.getTime() && o.deps.state !== undefined;
  o.log.error(
    { reason: o.failure.reason, attempts: o.attempts, totalAttempts: total, edgeTold: edgeWaiting },
    'record given up: answered tempfail and sent to the dead-letter topic',
  );
  o.span.addEvent('portcullis.stage.gave_up', { 'portcullis.reason': o.failure.reason, 'portcullis.attempts': total, 'portcullis.detail': reason });
  endSpan(o.span, new Error(reason));
  const at = now.toISOString();
  o.deps.trace?.summary(
    {
      id: meta.id,
      from: meta.envelope.mailFrom,
      rcpt: meta.envelope.rcptTo,
      clientIp: meta.envelope.client.ip,
      receivedAt: meta.envelope.receivedAt,
      outcome: 'dead-lettered',
      outcomeAt: at,
    },
    { index: true },
  );
  o.deps.trace?.events(meta.id, [
    { at, stage: o.stage, event: 'given up', outcome: edgeWaiting ? 'tempfail' : 'dead-letter', detail: `${reason}; sent to the dead-letter topic (attempts ${total})` },
  ]);
  if (edgeWaiting) {
    const reply: VerdictReply = { v: 1, id: meta.id, verdict: verdict('tempfail', 'the message could not be checked', `${o.stage}.budget`, { enhancedCode: '4.3.0', now }) };
    await o.deps.state!.publish(replyTo.channel, JSON.stringify(reply)).catch((err: Error) => o.log.warn({ error: err.message }, 'could not tell the edge'));
  }
}
