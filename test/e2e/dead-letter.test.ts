/**
 * The dead-letter reader on the real broker: a record that fails to decode is dead-lettered by the
 * auth stage (its own process, Kafka and Redis, as in the cluster); the operator lists and shows
 * it with the CLI (never its body), replays it once (a second replay is refused, the replay is in
 * the log with who did it), and it comes back to the dead-letter topic with its attempt count when
 * it fails again, and stays there: nothing replays on its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { KafkaBus } from '@portcullis/bus';
import { Headers, Topics } from '@portcullis/contract';
import { createLogger } from '@portcullis/telemetry';
import { GatewayProcess, freePort } from '../support/gateway.js';
import { CLI, KAFKA_BROKERS } from '../support/paths.js';
import { sleep, waitFor } from '../support/wait.js';

const run = promisify(execFile);

interface Listed {
  partition: number;
  offset: string;
  messageId: string;
  attempts: number;
  sourceTopic: string;
  sourceOffset: string;
  group: string;
  size: number;
  replayed?: { by: string };
}

describe('dead-letter topic: list, show and replay over Kafka, with the CLI', { timeout: 300_000 }, () => {
  let gw: GatewayProcess;
  let http: number, admin: number;
  let tokenArgs: string[];
  const bus = new KafkaBus({
    brokers: KAFKA_BROKERS,
    clientId: 'dead-letter-test',
    ssl: false,
    createTopics: true,
    partitions: 3,
    replicationFactor: 1,
    sessionTimeoutMs: 6000,
    lingerMs: 2,
    maxRecordBytes: 8 * 1024 * 1024,
    logger: createLogger({ level: 'warn', service: 'dead-letter-test' }),
  });
  const cli = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [CLI, 'dead-letter', ...args, ...tokenArgs], { encoding: 'utf8' });
      return { code: 0, out: r.stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, out: e.stdout };
    }
  };
  const mine = async (id: string): Promise<Listed[]> => {
    const res = await fetch(`http://127.0.0.1:${admin}/admin/dead-letter?limit=500`, { headers: { authorization: 'Bearer dl-token' } });
    const body = (await res.json()) as { records: Listed[] };
    return body.records.filter((r) => r.messageId === id);
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-dead-letter-'));
    writeFileSync(join(dir, 'token'), 'dl-token');
    http = await freePort();
    admin = await freePort();
    tokenArgs = ['--url', `http://127.0.0.1:${admin}`, '--token-file', join(dir, 'token')];
    gw = new GatewayProcess('dead-letter-auth', {
      services: ['auth'],
      smtpPort: await freePort(),
      httpPort: http,
      adminPort: admin,
      distributed: true,
      adminTokenFile: join(dir, 'token'),
    });
    await gw.start();
  });

  after(async () => {
    await gw?.stop();
    await bus.close();
  });

  it('a record that fails to decode: listed without its body, replayed once with its attempts, back when it fails again, no loop', async () => {
    const id = `dl-${randomBytes(6).toString('hex')}`;
    const body = `{"v":1,"not":"a mail record"}\nBODY-${id}-MUST-NOT-SHOW`;
    await bus.publish(Topics.accepted, [{ key: id, value: Buffer.from(body), headers: { [Headers.messageId]: id, [Headers.attempts]: '2', 'x-kept': 'yes' } }]);

    const [first] = await waitFor(
      'the record on the dead-letter topic',
      async () => {
        const l = await mine(id);
        return l.length === 1 ? l : undefined;
      },
      60_000,
      500,
    );
    assert.equal(first!.sourceTopic, Topics.accepted);
    assert.equal(first!.group, 'portcullis-auth');
    assert.equal(first!.attempts, 2);
    assert.equal(first!.size, Buffer.byteLength(body));
    const pos = `${first!.partition}/${first!.offset}`;

    const list = await cli('list', '--partition', String(first!.partition), '--limit', '500');
    assert.equal(list.code, 0);
    const line = list.out.split('\n').find((l) => l.startsWith(`${pos} `));
    assert.ok(line, `the list names ${pos}:\n${list.out}`);
    assert.match(line, new RegExp(`${id}  ${first!.size} octets  attempts 2  from ${Topics.accepted.replaceAll('.', '\\.')} \\d+/\\d+ \\(group portcullis-auth\\)`));
    const shown = await cli('show', pos);
    assert.equal(shown.code, 0);
    assert.match(shown.out, /portcullis-dead-letter-reason: .+/);
    assert.match(shown.out, /x-kept: yes/);
    for (const out of [list.out, shown.out]) assert.doesNotMatch(out, /MUST-NOT-SHOW/);

    const replay = await cli('replay', pos, '--by', 'alice');
    assert.equal(replay.code, 0, replay.out);
    assert.match(replay.out, new RegExp(`^replayed to ${Topics.accepted.replaceAll('.', '\\.')}`));
    const again = await cli('replay', pos, '--by', 'bob');
    assert.equal(again.code, 1);
    assert.match(again.out, /already replayed to .* by alice/);

    // It fails to decode again: a new dead-letter record, attempts and headers kept, from its new place.
    const both = await waitFor(
      'the record back on the dead-letter topic',
      async () => {
        const l = await mine(id);
        return l.length === 2 ? l : undefined;
      },
      60_000,
      500,
    );
    const second = both.find((r) => `${r.partition}/${r.offset}` !== pos)!;
    assert.equal(second.attempts, 2);
    assert.notEqual(second.sourceOffset, first!.sourceOffset);
    assert.equal(both.find((r) => r === first || `${r.partition}/${r.offset}` === pos)?.replayed?.by, 'alice');
    const log = readFileSync(gw.logPath, 'utf8');
    assert.match(log, new RegExp(`"by":"alice".*"messageId":"${id}".*"msg":"dead-letter record replayed"`));
    assert.doesNotMatch(log, /MUST-NOT-SHOW/);

    // Nothing replays by itself.
    await sleep(3000);
    assert.equal((await mine(id)).length, 2);

    const bad = await cli('show', `${first!.partition}/12x`);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /"field": "offset"/);
    const missing = await cli('show', '0/999999999');
    assert.equal(missing.code, 1);
    assert.match(missing.out, /no dead-letter record at partition 0 offset 999999999/);
  });
});
