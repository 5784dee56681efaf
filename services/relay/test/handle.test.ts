import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topics, verdict, type MailRecord } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { claimFate } from '@portcullis/state';
import { SpanKind, startSpan } from '@portcullis/telemetry';
import { testRelay } from '../src/testing.js';

const raw = Buffer.from('From: a@example.net\r\nSubject: s\r\n\r\nbody\r\n');

const setup = () => testRelay();

const span = () => startSpan('test', SpanKind.CONSUMER);
const record = (action: 'reject' | 'deliver', deadlineMs: number): MailRecord => ({
  meta: {
    ...sampleMeta({ envelope: { mailFrom: 'a@example.net' } }),
    size: raw.length,
    verdict: verdict(action, 'spam', 'content.verdict'),
    replyTo: { channel: 'edge-1', deadline: new Date(Date.now() + deadlineMs).toISOString() },
  },
  raw,
});

test('mail refused in session (550) is dropped: no delivery, no DSN, no quarantine', async () => {
  const { state, handle, writer, reader } = setup();
  const r = record('reject', -60_000);
  await claimFate(state, r.meta.id, 'rejected');
  const out = await handle(r, span());
  assert.deepEqual(out.outputs, []);
  await writer.flush();
  assert.equal((await reader.timeline(r.meta.id))?.summary?.outcome, 'refused in session');
});

test('a reject the sender never heard is quarantined with its reason, and nobody gets a DSN', async () => {
  const { handle } = setup();
  const out = await handle(record('reject', -60_000), span());
  assert.deepEqual(
    out.outputs.map((o) => o.topic),
    [Topics.quarantine],
  );
  assert.match(out.outputs[0]!.record.meta.results.at(-1)!.reason, /^late reject: spam/);
});
