/**
 * One message never stalls a stage (issue 14): checks that never return are planted in the
 * stages (stages.extraChecks, test/support/checks) — a synchronous loop in a content worker and
 * a promise that never settles on the reputation stage's main thread. The stuck records are
 * tried twice, answered 451 4.3.0 in the session and sent to the dead-letter topic with the
 * reason and the attempts; meanwhile new clients are greeted promptly and other mail is
 * delivered. In embedded mode and over the real broker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Headers, Topics } from '@portcullis/contract';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess, startDistributed } from '../support/gateway.js';
import { budgetYaml, runStuckAndNormal, type StuckRun } from '../support/budget.js';
import { readDeadLetter } from '../support/dead-letter.js';

const BUDGET_MS = 3000;
const ATTEMPTS = 2;

/**
 * What both modes show: the stuck got 451 and nothing stuck was delivered, other mail was
 * served, new clients were greeted promptly, and every other record went on while the stuck ones
 * were tried: all other mail was answered before the stuck ones (on Kafka too, where the consumer
 * hands records over as they arrive and the stuck ones hold only their own places in flight).
 */
function assertServedAround(run: StuckRun, sink: MailboxSink): void {
  for (const r of run.normal) assert.equal(r.code, 250, r.response);
  for (const r of run.stuck) {
    assert.equal(r.code, 451, r.response);
    assert.match(r.response, /^451 4\.3\.0 Try again later: the message could not be checked \([0-9A-Z]{26}\)$/);
    assert.ok(r.messageId);
    assert.equal(sink.find(r.messageId).length, 0, 'never a silent pass');
  }
  const firstStuck = Math.min(...run.stuck.map((r) => r.at));
  const before = run.normal.filter((r) => r.at < firstStuck).length;
  assert.equal(before, run.normal.length, 'all other mail was answered while the stuck records were still being tried');
  // A new client is greeted after smtp-server's 100 ms early-talker wait; bound an order of magnitude above it.
  for (const ms of run.greetings) assert.ok(ms < 3000, `greeting took ${ms} ms`);
  console.log(
    `greeting while stuck: max ${Math.max(...run.greetings).toFixed(0)} ms; ${before}/${run.normal.length} others answered before the stuck ones; stuck answered after ${run.stuck.map((r) => r.ms.toFixed(0)).join(' / ')} ms`,
  );
}

describe('a check that never returns, embedded mode', { timeout: 300_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let smtpPort: number;
  let httpPort: number;
  let adminPort: number;

  before(async () => {
    await sink.start();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-budget-'));
    writeFileSync(join(dir, 'token'), 'budget-token\n', { mode: 0o600 });
    smtpPort = await freePort();
    httpPort = await freePort();
    adminPort = await freePort();
    gw = new GatewayProcess('budget-embedded', {
      services: ['all'],
      smtpPort,
      httpPort,
      adminPort,
      downstreamPort: sink.port,
      distributed: false,
      verdictTimeoutMs: 30_000,
      adminTokenFile: join(dir, 'token'),
      extra: budgetYaml(BUDGET_MS, ATTEMPTS),
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('answers the stuck messages 451, dead-letters them with the reason, and goes on serving', async () => {
    const run = await runStuckAndNormal(smtpPort, sink);
    assertServedAround(run, sink);
    const metrics = await gw.metrics();
    assert.match(metrics, /portcullis_stage_given_up_total\{stage="content",reason="budget"\} 1\n/);
    assert.match(metrics, /portcullis_stage_given_up_total\{stage="reputation",reason="budget"\} 1\n/);
    assert.match(metrics, new RegExp(`portcullis_dead_letter_total\\{topic="${Topics.reputationChecked.replace(/\./g, '\\.')}"\\} 1\\n`));
    assert.match(metrics, new RegExp(`portcullis_dead_letter_total\\{topic="${Topics.authChecked.replace(/\./g, '\\.')}"\\} 1\\n`));
    // The content worker stuck in its loop was terminated at each attempt.
    assert.match(metrics, new RegExp(`portcullis_worker_kills_total\\{pool="content-extra",reason="budget"\\} ${ATTEMPTS}\\n`));
    // The operator finds it in the message trace, with the reason.
    const [sync] = run.stuck;
    const res = await fetch(`http://127.0.0.1:${adminPort}/admin/trace/${sync!.messageId}`, { headers: { authorization: 'Bearer budget-token' } });
    assert.equal(res.status, 200);
    const timeline = (await res.json()) as { summary: { outcome: string } | null; events: Array<{ stage: string; event: string; outcome?: string; detail: string }> };
    assert.equal(timeline.summary?.outcome, 'dead-lettered');
    const given = timeline.events.find((e) => e.event === 'given up');
    assert.equal(given?.stage, 'content');
    assert.equal(given?.outcome, 'tempfail');
    assert.match(
      given?.detail ?? '',
      new RegExp(`content stage gave up after ${ATTEMPTS} attempts: over its budget of ${BUDGET_MS} ms; sent to the dead-letter topic \\(attempts ${ATTEMPTS}\\)`),
    );
  });
});

describe('a check that never returns, over the real broker', { timeout: 600_000 }, () => {
  const sink = new MailboxSink();
  let procs: Map<string, GatewayProcess>;
  let smtpPort: number;

  before(async () => {
    await sink.start();
    smtpPort = await freePort();
    procs = await startDistributed({ smtpPort, downstreamPort: sink.port, verdictTimeoutMs: 30_000, extra: budgetYaml(BUDGET_MS, ATTEMPTS) });
  });

  after(async () => {
    await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
    await sink.stop();
  });

  it('answers 451, and the records are on the dead-letter topic with reason and attempts headers', async () => {
    const run = await runStuckAndNormal(smtpPort, sink);
    assertServedAround(run, sink);
    const [sync, async_] = run.stuck;
    const content = await readDeadLetter(sync!.messageId!);
    assert.equal(content.headers[Headers.deadLetterTopic], Topics.reputationChecked);
    assert.equal(content.headers[Headers.deadLetterGroup], 'portcullis-content');
    assert.equal(content.headers[Headers.attempts], String(ATTEMPTS));
    assert.equal(content.headers[Headers.deadLetterReason], `content stage gave up after ${ATTEMPTS} attempts: over its budget of ${BUDGET_MS} ms`);
    assert.match(content.value, /stall-sync/, 'the original record');
    const reputation = await readDeadLetter(async_!.messageId!);
    assert.equal(reputation.headers[Headers.deadLetterTopic], Topics.authChecked);
    assert.equal(reputation.headers[Headers.deadLetterGroup], 'portcullis-reputation');
    assert.equal(reputation.headers[Headers.attempts], String(ATTEMPTS));
    assert.match(await procs.get('content')!.metrics(), /portcullis_worker_kills_total\{pool="content-extra",reason="budget"\} 2\n/);
  });
});
