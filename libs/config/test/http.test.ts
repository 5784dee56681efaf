import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../src/load.js';

const doc = (http: unknown) => ({ domains: [{ name: 'example.test' }], http });
const refused = (http: unknown, pattern: RegExp) =>
  assert.throws(
    () => parseConfig(doc(http)),
    (e: Error) => e instanceof ConfigError && pattern.test(e.message),
    JSON.stringify(http),
  );

test('the admin API is off by default, on loopback port 8026 when turned on; health and metrics stay on 8025', () => {
  const c = parseConfig({ domains: [{ name: 'example.test' }] });
  assert.deepEqual(c.http, { listen: { host: '127.0.0.1', port: 8025 }, admin: { enabled: false, listen: { host: '127.0.0.1', port: 8026 } } });
  const on = parseConfig(doc({ admin: { enabled: true, tokenFile: '/run/secrets/admin/token' } }));
  assert.deepEqual(on.http.admin, { enabled: true, listen: { host: '127.0.0.1', port: 8026 }, tokenFile: '/run/secrets/admin/token' });
});

test('an admin API without a token file, or on the metrics port, is refused naming the key', () => {
  refused({ admin: { enabled: true } }, /http\.admin\.tokenFile: required when http\.admin\.enabled is true/);
  refused(
    { listen: { host: '0.0.0.0', port: 9000 }, admin: { enabled: true, tokenFile: 't', listen: { host: '0.0.0.0', port: 9000 } } },
    /http\.admin\.listen\.port: must be another port than http\.listen/,
  );
  refused({ admin: { enabled: true, tokenFile: '' } }, /http\.admin\.tokenFile: /);
  // The old single-port key is gone: its value would now be ignored, so it stops the start and says where it went.
  refused({ listen: { host: '127.0.0.1', port: 8025 }, adminTokenFile: '/etc/token' }, /http\.adminTokenFile: moved to http\.admin\.tokenFile .*http\.admin\.listen/);
});

test('off, the admin section may name a port and a file without either being used', () => {
  const c = parseConfig(doc({ admin: { enabled: false, listen: { host: '127.0.0.1', port: 8025 } } }));
  assert.equal(c.http.admin.enabled, false);
});
