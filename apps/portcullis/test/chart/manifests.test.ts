import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helm.js';

test('manifests/portcullis.yaml is the chart rendered now (run `make manifests` after changing the chart)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  try {
    const fresh = join(dir, 'portcullis.yaml');
    execFileSync('bash', [join(ROOT, 'scripts/render-manifests.sh'), fresh], { stdio: ['ignore', 'ignore', 'pipe'] });
    const committed = readFileSync(join(ROOT, 'manifests/portcullis.yaml'), 'utf8');
    assert.ok(committed === readFileSync(fresh, 'utf8'), 'manifests/portcullis.yaml is stale: run `make manifests` and commit it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
