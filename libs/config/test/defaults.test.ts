/**
 * The parsed defaults do not change when the schema's idiom for them does: the fixture is
 * ConfigSchema.parse of a minimal config as it was before the sections took `.prefault({})`
 * (issue 15), written out once from main's code, with the keys renamed since (auth -> login, reputation.connect ->
 * connect.dnsbl) moved to their new places, values unchanged. A default changed on purpose changes the fixture too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigSchema } from '../src/index.js';

const fixture: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/default-config.json', import.meta.url), 'utf8'));

test('the default config of a minimal file is what it was before the prefault idiom', () => {
  const parsed = ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });
  assert.deepEqual(JSON.parse(JSON.stringify(parsed)), fixture);
});

test('each parse gets its own default sections, not one shared object', () => {
  const a = ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });
  const b = ConfigSchema.parse({ hostname: 'mx.example.test', domains: [{ name: 'example.test' }] });
  assert.notEqual(a.relay, b.relay);
  assert.notEqual(a.relay.circuit, b.relay.circuit);
  assert.notEqual(a.quarantine.digest, b.quarantine.digest);
  assert.notEqual(a.messageTrace, b.messageTrace);
});
