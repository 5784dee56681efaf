/**
 * Embedded mode keeps quarantined mail in files, not in process memory: large messages sent over
 * SMTP and quarantined (a blocked attachment, policy: quarantine) are on disk under the spool
 * (0600 files, 0700 directories), listed, shown and released through the admin API and the CLI,
 * while the in-process bus holds none of their octets; they are still there after a restart.
 *
 * The process's RSS before and after is printed (not asserted: it is too noisy on a shared
 * machine); PORTCULLIS_QUARANTINE_COUNT / _MIB change the load (default 12 messages of 18 MiB).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Topics } from '@portcullis/contract';
import { MailboxSink } from '../support/sink.js';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { makeMessage, sendRaw } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { CLI } from '../support/paths.js';
import { adminApi, type QuarantineList, type QuarantineView } from '../support/admin-api.js';

const run = promisify(execFile);
const COUNT = Number(process.env.PORTCULLIS_QUARANTINE_COUNT ?? 12);
const MIB = Number(process.env.PORTCULLIS_QUARANTINE_MIB ?? 18);
const MiB = 1024 * 1024;
/** bus.memory.maxBytesPerTopic here; the bus's own count of octets in memory must stay within its bounds. */
const PER_TOPIC = 64 * MiB;

/** A message of about `bytes` octets whose attachment the policy blocks (an .exe). */
function blockedAttachment(subject: string, bytes: number): Buffer {
  const head = makeMessage(subject, []).toString().replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="b1"');
  const parts = [
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'The invoice is attached.',
    '--b1',
    'Content-Type: application/octet-stream; name="invoice.exe"',
    'Content-Disposition: attachment; filename="invoice.exe"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  const line = Buffer.alloc(57, 0x41).toString('base64');
  const lines = Math.ceil(bytes / 78);
  return Buffer.from(`${head}${parts}${`${line}\r\n`.repeat(lines)}--b1--\r\n`);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1]) / 1024);
}

const live = (m: string) =>
  `heap used ${Math.round(gauge(m, 'portcullis_process_nodejs_heap_size_used_bytes') / MiB)} MiB, external (Buffers) ${Math.round(gauge(m, 'portcullis_process_nodejs_external_memory_bytes') / MiB)} MiB`;
const gauge = (metrics: string, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);

describe('embedded mode: quarantined mail is spooled to files, not held in memory', { timeout: 900_000 }, () => {
  const sink = new MailboxSink();
  let gw: GatewayProcess;
  let http: number, adminPort: number;
  let smtpPort: number;
  let tokenFile: string;
  let spool: string;
  const admin = adminApi(() => adminPort, 'spool-token');

  before(async () => {
    await sink.start();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-spool-e2e-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'spool-token');
    http = await freePort();
    adminPort = await freePort();
    smtpPort = await freePort();
    gw = new GatewayProcess('quarantine-spool', {
      services: ['all'],
      smtpPort,
      httpPort: http,
      adminPort,
      downstreamPort: sink.port,
      distributed: false,
      adminTokenFile: tokenFile,
      verdictTimeoutMs: 60_000,
      storeTimeoutMs: 60_000,
      memoryBusExtra: `maxBytesPerTopic: ${PER_TOPIC}`,
      extra: 'authentication:\n  trustedNetworks: [127.0.0.0/8]\ncontent:\n  attachments: { blocked: quarantine }\n',
    });
    spool = join(dirname(gw.configPath), 'spool');
    await gw.start();
  });

  after(async () => {
    await gw?.stop();
    await sink.stop();
  });

  it(`quarantines ${COUNT} messages of ${MIB} MiB: on disk, listed, shown, released, and still there after a restart`, async () => {
    const warm = await sendRaw(smtpPort, makeMessage('spool warm-up'));
    assert.equal(warm.code, 250, warm.response);
    await waitFor('the warm-up delivered', () => sink.messages.length >= 1, 60_000);
    const rssBefore = rssMiB(gw.pid!);
    const liveBefore = live(await gw.metrics());

    let mostHeld = 0;
    const watching = setInterval(() => {
      void gw.metrics().then(
        (m) => (mostHeld = Math.max(mostHeld, gauge(m, 'portcullis_bus_memory_bytes') || 0)),
        () => undefined,
      );
    }, 200);
    const ids: string[] = [];
    const started = performance.now();
    try {
      for (let i = 0; i < COUNT; i++) {
        const r = await sendRaw(smtpPort, blockedAttachment(`spooled ${i}`, MIB * MiB));
        assert.equal(r.code, 250, r.response);
        ids.push(r.messageId!);
      }
      await waitFor(
        `${COUNT} in the quarantine index`,
        async () => (await admin<QuarantineList>('GET', 'quarantine?limit=1000')).body.messages.length >= COUNT || undefined,
        300_000,
        500,
      );
    } finally {
      clearInterval(watching);
    }
    const seconds = Math.round((performance.now() - started) / 1000);

    // On disk, one 0600 file per message, in 0700 directories.
    const qdir = join(spool, Topics.quarantine);
    const files = readdirSync(qdir).filter((f) => f.endsWith('.rec'));
    assert.equal(files.length, COUNT);
    assert.equal(statSync(spool).mode & 0o777, 0o700);
    assert.equal(statSync(qdir).mode & 0o777, 0o700);
    for (const f of files) {
      const st = statSync(join(qdir, f));
      assert.equal(st.mode & 0o777, 0o600, f);
      assert.ok(st.size >= MIB * MiB, `${f} holds the whole message (${st.size} octets)`);
    }

    // Memory holds none of them: the bus's own count of octets in memory is back to nothing, and
    // never went past its bounds (four pipeline topics, and what kept topics load for handlers).
    const metrics = await gw.metrics();
    assert.equal(gauge(metrics, 'portcullis_bus_memory_bytes'), 0);
    assert.ok(mostHeld <= 6 * PER_TOPIC, `at most ${mostHeld} octets held`);
    assert.ok(gauge(metrics.replace(/\{topic="portcullis\.mail\.quarantine\.v1"\}/, ''), 'portcullis_bus_spool_bytes') >= COUNT * MIB * MiB);
    const rssAfter = rssMiB(gw.pid!);
    const liveAfter = live(metrics);
    console.log(
      `# ${COUNT} quarantined messages of ${MIB} MiB in ${seconds} s: RSS ${rssBefore} MiB before (${liveBefore}), ${rssAfter} MiB after (${liveAfter}); bus memory peak ${Math.round(mostHeld / MiB)} MiB, now 0`,
    );

    // Shown (read back from the file) and released (delivered from the file) through the CLI.
    const tokenArgs = ['--url', `http://127.0.0.1:${adminPort}`, '--token-file', tokenFile];
    const shown = await run(process.execPath, [CLI, 'quarantine', 'show', ids[0]!, ...tokenArgs], { encoding: 'utf8', maxBuffer: 256 * MiB });
    assert.match(shown.stdout, /subject: spooled 0/i);
    assert.match(shown.stdout, /invoice\.exe/);
    const released = await run(process.execPath, [CLI, 'quarantine', 'release', ids[1]!, '--by', 'alice', ...tokenArgs], { encoding: 'utf8' });
    assert.match(released.stdout, /alice/);
    const delivered = await waitFor('the released message delivered', () => sink.messages.find((m) => m.raw.includes('Subject: spooled 1')), 120_000, 200);
    assert.ok(delivered.raw.length >= MIB * MiB);

    // A restart: embedded mode's memory is gone, the spool is not; the index is rebuilt from it.
    await gw.stop();
    await gw.start();
    const listed = await waitFor(
      'the quarantine indexed again',
      async () => {
        const l = (await admin<QuarantineList>('GET', 'quarantine?limit=1000')).body.messages;
        return l.length >= COUNT ? l : undefined;
      },
      120_000,
      500,
    );
    assert.deepEqual(new Set(listed.map((m) => m.id)), new Set(ids));
    const view = await admin<QuarantineView>('GET', `quarantine/${ids[0]}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.entry.subject, 'spooled 0');
  });
});
