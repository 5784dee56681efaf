#!/usr/bin/env node
// Writes the table of SMTP replies in docs/replies.md from the catalogue (libs/smtp-replies), so the
// page cannot drift from what the gateway sends. Run after `npx tsc --build`:
//   node scripts/replies-doc.mjs          rewrite the table in place
//   node scripts/replies-doc.mjs --check  exit 1 when the committed table is stale
// A unit test of libs/smtp-replies fails on a stale table too.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFreshTable } from '../libs/smtp-replies/dist/src/index.js';

const doc = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'replies.md');
const current = readFileSync(doc, 'utf8');
const fresh = withFreshTable(current);
if (process.argv.includes('--check')) {
  if (fresh !== current) {
    console.error('docs/replies.md is stale: run node scripts/replies-doc.mjs');
    process.exit(1);
  }
} else if (fresh !== current) {
  writeFileSync(doc, fresh);
  console.log('docs/replies.md: table rewritten');
}
