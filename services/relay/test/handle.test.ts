import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '@portcullis/config';
import { Topics, verdict, type MailRecord } from '@portcullis/contract';
import { sampleMeta } from '@portcullis/contract/testing';
import { MemoryState, claimFate } from '@portcullis/state';
import { MessageTraceReader, MessageTraceWriter } from '@portcullis/message-trace';
import { Counter, SpanKind, createLogger, createRegistry, startSpan } from '@portcullis/telemetry';
import { relayHandler } from '../src/handle.js';
import { RelayTrace } from '../src/relay-trace.js';
import { SmtpDelivery } from '../src/smtp-delivery.js';
import { Capabilities } from '../src/capabilities.js';
import { CircuitBreaker } from '../src/circuit.js';

const config = ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });
const logger = createLogger({ level: 'silent', service: 'test' });
const raw = Buffer.from('From: a@example.net\r\nSubject: s\r\n\r\nbody\r\n');

function setup() {
  const state = new MemoryState({ maxEntries: 1000 });
  const registry = createRegistry();
  const writer = new MessageTraceWriter({ state, logger, registry, options: config.messageTrace });
  const handle = relayHandler({
    config, state, logger, trace: new RelayTrace(writer),
    outcomes: new Counter({ name: 'o', help: 'o', labelNames: ['status'], registers: [registry] }),
    smtp: new SmtpDelivery({ hostname: 'mx', maxConnections: 1, timeoutMs: 1000 }),
    capabilities: new Capabilities({ hostname: 'mx', timeoutMs: 1000 }),
    breaker: new CircuitBreaker({ state, options: config.relay.circuit, logger }),
  });
  return { state, writer, handle, reader: new MessageTraceReader(state) };
}

const span = () => startSpan('test', SpanKind.CONSUMER);
const record = (action: 'reject' | 'deliver', deadlineMs: number): MailRecord => ({
  meta: { ...sampleMeta({ envelope: { mailFrom: 'a@example.net' } }), size: raw.length, verdict: verdict(action, 'spam', 'content.verdict'), replyTo: { channel: 'edge-1', deadline: new Date(Date.now() + deadlineMs).toISOString() } },
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
  assert.deepEqual(out.outputs.map((o) => o.topic), [Topics.quarantine]);
  assert.match(out.outputs[0]!.record.meta.results.at(-1)!.reason, /^late reject: spam/);
});
