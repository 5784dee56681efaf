/**
 * Embedded mode: parsing never blocks the event loop that serves SMTP (issue 14). A hostile
 * message — 2 MB of HTML with a run of a million ")" in one href, base64-encoded (so every line
 * is within the edge's limits) inside 60 levels of nested multipart — is sent over SMTP to the
 * embedded gateway while the gateway's own perf_hooks.monitorEventLoopDelay histogram (prom-
 * client's, reset at each scrape) measures the delay of its event loop; its p99 must stay under
 * 20 ms. The message is parsed in the stages' workers; whatever becomes of it (checked in time
 * and delivered, or over its budget, 451 and dead-lettered), it never passes silently.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxSink } from '../support/sink.js';
import { freePort, GatewayProcess } from '../support/gateway.js';
import { makeLargeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { metricSum } from '../support/metrics.js';

const DEPTH = 60;
const RUNS = 3;
/**
 * prom-client samples the loop with monitorEventLoopDelay at a 10 ms resolution, and a sample is
 * the interval between two ticks: an idle loop reads 10 ms. The delay is what exceeds it.
 */
const SAMPLING_MS = 10;
/**
 * The goal (issue 14), asserted on the median of the windows: p99 of the delay under 20 ms. A
 * window is short (about a second, so about a hundred samples, and its p99 is close to its
 * largest sample): one long block, or one preemption of the process by the machine's other work,
 * spoils a window, and the median of three keeps a single one from failing the test. Measured
 * on the 2-core test machine with the test's processes ahead of the machine's other work (nice
 * -10, as if alone): medians 3.9-14.6 ms over five runs; sharing both cores at equal priority
 * with another engineer's CPU-bound process, 9.5-22.3 ms, two runs of six over the goal
 * (docs/security.md). What is left there is not the gateway's own work (its longest synchronous
 * stretch on the main thread is a garbage collection, 5-9 ms of CPU) but waiting for a core:
 * PORTCULLIS_TEST_RELAXED_TIMING=1 bounds it an order of magnitude higher for such a machine
 * (parsing on the loop, as the quadratic href trim that froze it for 48 s, is far beyond either).
 */
const GOAL_MS = 20;
const BOUND_MS = process.env.PORTCULLIS_TEST_RELAXED_TIMING === '1' ? 10 * GOAL_MS : GOAL_MS;

function hostileMessage(subject: string): Buffer {
  const href = `http://hostile.example/${')'.repeat(1_000_000)}`;
  let html = `<html><body><p>Hello</p><a href="${href}">click</a>`;
  while (html.length < 2 * 1024 * 1024) html += `<div><a href="http://filler.example/${html.length}">(((${')'.repeat(200)}</a></div>\n`;
  html += '</body></html>';
  const b64 = Buffer.from(html).toString('base64').replace(/.{76}/g, '$&\r\n');
  let part = `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
  for (let level = 0; level < DEPTH; level++) {
    const boundary = `b${level}x`;
    part = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n${part}--${boundary}--\r\n`;
  }
  const head = ['From: Sender <sender@sender.test>', 'To: <postmaster@example.test>', `Subject: ${subject}`, `Message-ID: <${Date.now()}@sender.test>`, 'MIME-Version: 1.0'].join(
    '\r\n',
  );
  return Buffer.from(`${head}\r\n${part}`);
}

describe('embedded mode: a hostile message does not block the event loop', { timeout: 400_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let smtpPort: number;

  before(async () => {
    await sink.start();
    smtpPort = await freePort();
    gw = new GatewayProcess('event-loop', {
      services: ['all'],
      smtpPort,
      httpPort: await freePort(),
      downstreamPort: sink.port,
      distributed: false,
      verdictTimeoutMs: 60_000,
      smtpExtra: '  maxMessageBytes: 8388608\n',
      extra: 'stages:\n  budgetMs: 8000\n  maxAttempts: 1\nauthentication:\n  timeoutMs: 6000\n',
    });
    await gw.start();
  });

  after(async () => {
    await gw.stop('SIGTERM');
    await sink.stop();
  });

  it('keeps event-loop delay p99 under 20 ms while the message is checked', async () => {
    // A large normal message first: modules loaded on first use, the workers started and the
    // code paths compiled for large messages are a running gateway's state, not the hostile message's doing.
    const warm = await sendRaw(smtpPort, makeLargeMessage(`warm-up ${Date.now()}`, 3 * 1024 * 1024));
    assert.equal(warm.code, 250, warm.response);
    await waitFor('delivery of the warm-up message', () => sink.find(warm.messageId!)[0], 60_000);
    const windows: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const raw = hostileMessage(`hostile ${i} ${Date.now()}`);
      await waitFor('the pipeline idle', async () => !/portcullis_worker_busy\{[^}]*\} [1-9]/.test(await gw.metrics()), 30_000);
      await gw.metrics(); // resets the gateway's delay histogram: the window starts here
      const r = await sendRaw(smtpPort, raw);
      // Checked in time and delivered, or given up over budget (451 4.3.0): never a silent pass.
      // The window ends once the message is delivered: the relay's work on it (its 8-bit scan,
      // nodemailer's dot-stuffing) is inside it too, not only the checks before the reply.
      if (r.code === 250) await waitFor('delivery', () => sink.find(r.messageId!)[0], 60_000, 20);
      else assert.match(r.response, /^451 4\.3\.0 /);
      const metrics = await gw.metrics();
      const p99 = metricSum(metrics, 'portcullis_process_nodejs_eventloop_lag_p99_seconds', {}, { required: true }) * 1000;
      const max = metricSum(metrics, 'portcullis_process_nodejs_eventloop_lag_max_seconds', {}, { required: true }) * 1000;
      console.log(
        `hostile message ${i} (${raw.length} octets, ${DEPTH} levels): ${r.code} after ${r.ms.toFixed(0)} ms; histogram p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
      );
      windows.push(p99 - SAMPLING_MS);
    }
    const median = windows.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
    console.log(`event-loop delay p99 beyond the ${SAMPLING_MS} ms sampling interval, median of ${RUNS} windows: ${median.toFixed(1)} ms (goal ${GOAL_MS} ms)`);
    assert.ok(median < BOUND_MS, `event-loop delay p99 ${median.toFixed(1)} ms`);
  });
});
