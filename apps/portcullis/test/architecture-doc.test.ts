import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetryTierTopics, Topics } from '@portcullis/contract';

/** The repository root, from apps/portcullis/dist/test/. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DOC_PATH = 'docs/architecture.md';
const doc = readFileSync(join(ROOT, DOC_PATH), 'utf8');

/** The doc's prose: fenced code blocks (the diagram) removed, so only inline code spans remain. */
const prose = doc.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** Every inline code span of the prose. */
const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);

/** Names that look like a file by their ending, even without a folder. */
const FILE_ENDING = /\.(?:ts|js|mjs|cjs|json|md|sh|ya?ml|tpl|zone)$/;
/** A segment that stands for many names: `<name>`, `*.test.ts`, `a|b`. */
const PLACEHOLDER = /[<>*|]/;

/**
 * The spans the doc's convention says are repo-relative paths: anything with a slash or a file
 * ending, except URL paths (`/healthz`), package specifiers (`@portcullis/edge/testing`), URLs and
 * spans with spaces (code, commands).
 */
const paths = spans.filter((s) => (s.includes('/') || FILE_ENDING.test(s)) && !s.startsWith('/') && !s.startsWith('@') && !s.includes('://') && !/\s/.test(s));

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * Whether a path exists; a trailing slash asks for a folder. A placeholder segment
 * (`services/<name>/src/metrics.ts`) is expanded over every folder beside it, and the rest of the
 * path must exist under each; a placeholder in the first segment (`<pkg>/test`) names no folder.
 */
function missing(path: string): string[] {
  const segments = path.replace(/\/$/, '').split('/');
  const wantDir = path.endsWith('/');
  const at = segments.findIndex((s) => PLACEHOLDER.test(s));
  if (at === -1) {
    const full = join(ROOT, path);
    return (wantDir ? isDir(full) : existsSync(full)) ? [] : [path];
  }
  if (at === 0) return [];
  const parent = segments.slice(0, at).join('/');
  if (!isDir(join(ROOT, parent))) return [`${path} (no folder ${parent}/)`];
  // A placeholder in the last segment (`*.test.ts`) names files, not a folder to expand over.
  if (at === segments.length - 1) return [];
  const rest = segments.slice(at + 1).join('/') + (wantDir ? '/' : '');
  return readdirSync(join(ROOT, parent), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => missing(`${parent}/${e.name}/${rest}`).map((m) => `${m} (from ${path})`));
}

test(`every file and folder ${DOC_PATH} names exists (paths are repo-relative)`, () => {
  // The doc names well over a hundred paths: a parse that finds few has gone wrong, not the doc.
  assert.ok(paths.length > 100, `only ${paths.length} paths found in ${DOC_PATH}`);
  const gone = [...new Set(paths)].flatMap(missing);
  assert.deepEqual(gone, [], `${DOC_PATH} names paths that do not exist: fix the doc after a move`);
});

test(`${DOC_PATH} lists every topic the contract defines`, () => {
  for (const topic of Object.values(Topics)) assert.ok(doc.includes(`\`${topic}\``), `${topic} is not in the topic table`);
  // The tiers are one row (t0 … t7); the row's first name stands for them.
  assert.ok(doc.includes(`\`${RetryTierTopics[0]}\``), 'the retry tiers are not in the topic table');
});

test(`${DOC_PATH} names every smtp-server callback file of the edge`, () => {
  const edge = join(ROOT, 'services/edge/src');
  const callbacks = readdirSync(edge, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((d) => readdirSync(join(edge, d.name)).map((f) => `services/edge/src/${d.name}/${f}`))
    .filter((p) => /\/on-[a-z-]+\.ts$/.test(p));
  assert.ok(callbacks.length >= 6, `only ${callbacks.length} on-*.ts files found under services/edge/src`);
  for (const file of callbacks) assert.ok(paths.includes(file), `${file} is not described in ${DOC_PATH}`);
});

test(`${DOC_PATH} has one diagram and explains the four loops`, () => {
  const fences = doc.match(/^```/gm) ?? [];
  assert.equal(fences.length, 2, 'one fenced block: the diagram of topics and services');
  for (const loop of ['The verdict back to the edge', 'The fate key', 'The relay republishing', 'History learning']) {
    assert.match(doc, new RegExp(`\\*\\*\\(\\d\\) ${loop}\\.\\*\\*`), `loop "${loop}" is not explained`);
  }
});
