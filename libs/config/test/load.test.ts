import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, loadConfigFile, ConfigError } from '../src/load.js';

const minimal = () => ({ domains: [{ name: 'example.test' }] });
const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
after(() => rm(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('a wrong type names the dotted key path', () => {
  const err = configError(() => parseConfig({ ...minimal(), smtp: { maxMessageBytes: '25MB' } }));
  assert.match(err.message, /^[ \t]*smtp\.maxMessageBytes: /m);
});

test('a bad value inside a list names the index in the path', () => {
  assert.match(configError(() => parseConfig({ domains: [{ name: 5 }] })).message, /^[ \t]*domains\.0\.name: /m);
  assert.match(configError(() => parseConfig({ domains: [{ name: 'ok.test' }, { name: 'not a domain' }] })).message, /^[ \t]*domains\.1\.name: not a domain name/m);
});

test('an unknown key is refused and named by its dotted path', () => {
  const err = configError(() => parseConfig({ ...minimal(), smtp: { maxMesageBytes: 1 } }));
  assert.match(err.message, /^[ \t]*smtp\.maxMesageBytes: unknown key$/m);
  const top = configError(() => parseConfig({ ...minimal(), hostnme: 'x' }));
  assert.match(top.message, /^[ \t]*hostnme: unknown key$/m);
});

test('every bad key is listed, and the source is named', () => {
  const err = configError(() => parseConfig({ domains: [{ name: 'example.test' }], smtp: { maxClients: 0, socketTimeoutMs: 'x' } }, 'my.yaml'));
  assert.match(err.message, /^my\.yaml is invalid/);
  assert.match(err.message, /smtp\.maxClients/);
  assert.match(err.message, /smtp\.socketTimeoutMs/);
});

test('loadConfigFile on a missing file names the file', () => {
  const path = join(dir, 'missing.yaml');
  const err = configError(() => loadConfigFile(path));
  assert.ok(err.message.includes(path));
  assert.match(err.message, /ENOENT/);
});

test('loadConfigFile on invalid YAML names the file', async () => {
  const path = join(dir, 'broken.yaml');
  await writeFile(path, 'domains:\n  - name: example.test\n  bad: [unclosed\n');
  const err = configError(() => loadConfigFile(path));
  assert.ok(err.message.includes(path));
  assert.match(err.message, /not valid YAML/);
});

test('loadConfigFile on a schema error names the file and the key', async () => {
  const path = join(dir, 'wrong.yaml');
  await writeFile(path, 'domains:\n  - name: example.test\nsmtp:\n  maxRecipients: many\n');
  const err = configError(() => loadConfigFile(path));
  assert.ok(err.message.includes(path));
  assert.match(err.message, /smtp\.maxRecipients/);
});

test("the repository's annotated example config parses", () => {
  const path = fileURLToPath(new URL('../../../../config/portcullis.yaml', import.meta.url));
  const c = loadConfigFile(path);
  assert.equal(c.hostname, 'mx.example.test');
  assert.deepEqual(
    c.domains.map((d) => d.name),
    ['example.test'],
  );
  assert.equal(c.smtp.maxMessageBytes, 26_214_400);
  assert.equal(c.bus.kind, 'memory');
  assert.equal(c.state.kind, 'memory');
});

test('smtp.commandTimeouts and smtp.reclaim: defaults, RFC 5321 ceilings and the DATA termination bound, each error naming its key', () => {
  const c = parseConfig(minimal());
  assert.deepEqual(c.smtp.commandTimeouts, { greetingMs: 60_000, mailMs: 60_000, rcptMs: 300_000, dataInitiationMs: 120_000, dataBlockMs: 180_000, stressedPreMailMs: 10_000 });
  assert.deepEqual(c.smtp.reclaim, { enabled: true, atFraction: 0.9, stressAtFraction: 0.8 });
  const ceilings = configError(() =>
    parseConfig({
      ...minimal(),
      smtp: { commandTimeouts: { mailMs: 300_001, dataInitiationMs: 120_001, dataBlockMs: 180_001 }, reclaim: { atFraction: 1.5, stresAtFraction: 0.5 } },
    }),
  );
  for (const key of ['commandTimeouts.mailMs', 'commandTimeouts.dataInitiationMs', 'commandTimeouts.dataBlockMs', 'reclaim.atFraction']) {
    assert.match(ceilings.message, new RegExp(`smtp\\.${key.replace('.', '\\.')}`), key);
  }
  assert.match(ceilings.message, /smtp\.reclaim\.stresAtFraction: unknown key/);
  const slow = configError(() => parseConfig({ ...minimal(), smtp: { storeTimeoutMs: 100_000, verdictTimeoutMs: 500_000 } }));
  assert.match(slow.message, /smtp\.verdictTimeoutMs: storeTimeoutMs \+ verdictTimeoutMs must stay under 600000 ms/);
});
