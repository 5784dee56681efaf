import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '@portcullis/config';
import { TopicSchemas, Topics } from '@portcullis/contract';
import { MemoryState } from '@portcullis/state';
import { buildDigests } from '../../src/quarantine/digest.js';
import { QuarantineStore, type QuarantineEntry } from '../../src/quarantine/quarantine-store.js';

const config = ConfigSchema.parse({
  hostname: 'mx.example.test',
  domains: [{ name: 'example.test' }, { name: 'other.test' }],
  quarantine: { digest: { domains: ['example.test'], intervalSeconds: 3600 } },
});

const entry = (id: string, rcpt: string[], at: string): QuarantineEntry => ({
  id,
  partition: 0,
  offset: '0',
  from: 'bad@spam.test',
  rcpt,
  subject: `offer ${id}`,
  reason: 'spam score 12',
  quarantinedAt: at,
  receivedAt: at,
  status: 'held',
});

test('one digest per opted-in recipient for the last period, never twice', async () => {
  const state = new MemoryState({ maxEntries: 1000 });
  const store = new QuarantineStore(state, { retentionDays: 30, maxEntries: 1000 });
  const now = new Date();
  const hour = Math.floor(now.getTime() / 3600_000) * 3600_000;
  const inLast = new Date(hour - 1800_000).toISOString();
  await store.add(entry('01M0000000000000000000000A', ['u@example.test', 'x@other.test'], inLast));
  await store.add(entry('01M0000000000000000000000B', ['u@example.test'], inLast));
  await store.add(entry('01M0000000000000000000000C', ['v@example.test'], new Date(hour + 1000).toISOString())); // this period: next digest
  const digests = await buildDigests({ config, store, state }, now);
  assert.deepEqual(
    digests.map((d) => d.meta.envelope.rcptTo),
    [['u@example.test']],
    'only opted-in domains, only the last period',
  );
  const d = digests[0]!;
  assert.equal(d.meta.envelope.mailFrom, '');
  assert.equal(TopicSchemas[Topics.decided].safeParse(d.meta).success, true);
  const body = Buffer.from(d.raw.toString().split('\r\n\r\n')[1]!, 'base64').toString();
  assert.match(body, /2 message\(s\)/);
  assert.match(body, /01M0000000000000000000000A/);
  assert.match(body, /offer 01M0000000000000000000000B/);
  assert.deepEqual(await buildDigests({ config, store, state }, now), [], 'a second run (another replica) sends nothing');
});
