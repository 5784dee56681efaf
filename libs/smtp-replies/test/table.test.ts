import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { catalogue, renderReplyTable, withFreshTable } from '../src/index.js';

/** docs/replies.md, from libs/smtp-replies/dist/test/. */
const DOC = fileURLToPath(new URL('../../../../docs/replies.md', import.meta.url));

test('docs/replies.md carries the table of the catalogue as it is (node scripts/replies-doc.mjs rewrites it)', () => {
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(doc, withFreshTable(doc), 'docs/replies.md is stale: run `node scripts/replies-doc.mjs` after `npx tsc --build`');
});

test('the table has one row per entry, under its stage, with codes and checks', () => {
  const table = renderReplyTable();
  for (const e of catalogue) {
    const line = table.split('\n').find((l) => l.startsWith(`| \`${e.id}\` |`));
    assert.ok(line, e.id);
    assert.ok(line.includes(`| ${e.code} ${e.enhanced}`), line);
    for (const c of e.checks) assert.ok(line.includes(`\`${c}\``), line);
  }
  assert.match(table, /### rcpt\n\n\| id \| reply \|/);
  assert.ok(table.includes('| `rcpt.relay-denied` | 550 5.7.1 | `Relay access denied for <user@other.test>` | `checkRecipient` |'), table);
});
