import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../src/index.js';

const base = { domains: [{ name: 'example.com' }] };

test('leader election is off by default (embedded: always leader), with working timings', () => {
  const c = parseConfig(base);
  assert.deepEqual(c.kubernetes.leaderElection, { enabled: false, leaseDurationSeconds: 15, renewIntervalSeconds: 5 });
});

test('a renewal interval that cannot keep the lease is refused, by name', () => {
  assert.throws(
    () => parseConfig({ ...base, kubernetes: { leaderElection: { enabled: true, leaseDurationSeconds: 10, renewIntervalSeconds: 6 } } }),
    (e: Error) => e instanceof ConfigError && /kubernetes\.leaderElection\.renewIntervalSeconds: renewIntervalSeconds must be at most half/.test(e.message),
  );
  assert.throws(() => parseConfig({ ...base, kubernetes: { leaderElection: { enable: true } } }), /kubernetes\.leaderElection\.enable: unknown key/);
});
