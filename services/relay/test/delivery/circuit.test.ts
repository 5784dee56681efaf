import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryState } from '@portcullis/state';
import { createLogger } from '@portcullis/telemetry';
import { CircuitBreaker, isConnectionFailure } from '../../src/delivery/circuit.js';
import type { RecipientOutcome } from '../../src/delivery/smtp-delivery.js';

const logger = createLogger({ level: 'silent', service: 'test' });
const refused: RecipientOutcome[] = [{ recipient: 'u@example.test', status: 'temporary', response: 'connect ECONNREFUSED' }];
const ok: RecipientOutcome[] = [{ recipient: 'u@example.test', status: 'delivered', response: '250 ok' }];

test('connection failures and 421 count; a 4xx or 5xx about a recipient does not', () => {
  assert.equal(isConnectionFailure(refused), true);
  assert.equal(isConnectionFailure([{ recipient: 'a', status: 'temporary', code: 421, response: '421 bye' }]), true);
  assert.equal(isConnectionFailure([{ recipient: 'a', status: 'temporary', code: 451, response: '451 later' }]), false);
  assert.equal(isConnectionFailure([{ recipient: 'a', status: 'permanent', code: 550, response: '550 no' }]), false);
});

test('opens after the threshold, holds while open, lets one probe through after, closes on success', async () => {
  let now = 1_000_000;
  const state = new MemoryState({ maxEntries: 100, now: () => now });
  const opened: string[] = [];
  const mk = () => new CircuitBreaker({ state, options: { failureThreshold: 3, openSeconds: 10 }, logger, onOpen: (d) => opened.push(d) });
  const a = mk();
  const b = mk(); // a second replica on the same state
  for (let i = 0; i < 2; i++) await a.record('mx:25', refused);
  assert.equal(await b.admit('mx:25'), true, 'below the threshold');
  await b.record('mx:25', refused);
  assert.deepEqual(opened, ['mx:25']);
  assert.equal(await a.admit('mx:25'), false, 'open for every replica');
  assert.equal(await a.admit('other:25'), true, 'per destination');
  now += 10_500;
  const probes = [await a.admit('mx:25'), await b.admit('mx:25')];
  assert.deepEqual(probes.sort(), [false, true], 'one probe when half-open');
  await a.record('mx:25', refused);
  assert.equal(await b.admit('mx:25'), false, 'a failed probe opens it again');
  now += 10_500;
  assert.equal(await b.admit('mx:25'), true);
  await b.record('mx:25', ok);
  assert.equal(await a.admit('mx:25'), true);
  assert.equal(await b.admit('mx:25'), true, 'closed: everyone may deliver');
});
