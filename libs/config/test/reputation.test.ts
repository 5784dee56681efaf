import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig, ConfigError } from '../src/load.js';

const minimal = { domains: [{ name: 'example.test' }] };

test('reputation defaults: no list asked, history on, empty local lists', () => {
  const r = parseConfig(minimal, 'test').reputation;
  assert.deepEqual(parseConfig(minimal, 'test').connect.dnsbl.lists, []);
  assert.deepEqual(r.content.lists, []);
  assert.equal(r.history.enabled, true);
  assert.deepEqual(r.block, { ips: [], senders: [], senderDomains: [], recipients: [] });
  assert.equal(r.content.rejectAt, undefined);
});

test('every YAML example in docs/reputation.md parses', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/reputation.md', import.meta.url)), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 4);
  for (const block of blocks) {
    const r = parseConfig({ ...minimal, ...(parseYaml(block) as object) }, 'docs/reputation.md').reputation;
    assert.ok(r);
  }
  const zen = parseConfig({ ...minimal, ...(parseYaml(blocks[0]!) as object) }, 'docs').connect.dnsbl.lists[0]!;
  assert.equal(zen.zone, 'zen.spamhaus.org');
  assert.deepEqual(zen.errorCodes, ['127.255.255.0/24']);
});

test('a list with both codes and bits, or a bad answer, is refused with its path', () => {
  const bad = (list: object) => {
    try {
      parseConfig({ ...minimal, reputation: { content: { lists: [list] } } }, 'test');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    return assert.fail('expected a ConfigError');
  };
  assert.match(bad({ zone: 'l.example', weight: 1, codes: [{ answer: '127.0.0.2', meaning: 'x' }], bits: [{ bit: 2, meaning: 'y' }] }), /reputation\.content\.lists\.0\.bits/);
  assert.match(bad({ zone: 'l.example', weight: 1, codes: [{ answer: 'listed', meaning: 'x' }] }), /reputation\.content\.lists\.0\.codes\.0\.answer/);
});
