import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@portcullis/config';
import { applyPortOverrides } from '../src/port-overrides.js';
import { redisUrlForLog } from '../src/state-watch.js';

describe('per-process port overrides', () => {
  const config = parseConfig({
    domains: [{ name: 'example.test' }],
    http: { listen: { host: '127.0.0.1', port: 8025 }, admin: { enabled: true, listen: { host: '127.0.0.1', port: 8026 }, tokenFile: '/dev/null' } },
  });

  it('the flag wins over the environment, which wins over the file', () => {
    assert.equal(applyPortOverrides(config, {}, {}).http.listen.port, 8025);
    assert.equal(applyPortOverrides(config, {}, { PORTCULLIS_HTTP_PORT: '9100' }).http.listen.port, 9100);
    const both = applyPortOverrides(config, { 'http-port': '9200', 'admin-port': '9201' }, { PORTCULLIS_HTTP_PORT: '9100', PORTCULLIS_ADMIN_PORT: '9101' });
    assert.deepEqual([both.http.listen.port, both.http.admin.listen.port], [9200, 9201]);
    assert.equal(both.http.listen.host, '127.0.0.1');
  });

  it('refuses what is not a port, and the admin API on the metrics port, naming where it came from', () => {
    assert.throws(() => applyPortOverrides(config, {}, { PORTCULLIS_HTTP_PORT: '80a' }), /^ConfigError: PORTCULLIS_HTTP_PORT: "80a" is not a port/);
    assert.throws(() => applyPortOverrides(config, { 'admin-port': '-1' }, {}), /--admin-port: "-1" is not a port/);
    assert.throws(() => applyPortOverrides(config, { 'http-port': '8026' }, {}), /^ConfigError: http\.admin\.listen\.port: 8026 is also http\.listen's port/);
  });
});

describe('the Redis URL in log lines', () => {
  it('drops the user and password', () => {
    assert.equal(redisUrlForLog('redis://alice:s3cret@redis.example:6380/2'), 'redis://redis.example:6380/2');
    assert.equal(redisUrlForLog('rediss://:s3cret@redis.example'), 'rediss://redis.example');
    assert.doesNotMatch(redisUrlForLog('not a url s3cret'), /s3cret/);
  });
});

describe('the admin CLI at the wrong service', () => {
  it('names the service that serves the area, only for the admin API\'s "not here" answer', async () => {
    const { wrongServiceLine } = await import('../src/admin-areas.js');
    assert.equal(
      wrongServiceLine('quarantine', 404, { error: 'no admin area quarantine in this process', areas: ['bans'] }),
      "quarantine is served by the relay: point --url at the relay's admin listener (the one at --url serves: bans)",
    );
    assert.match(wrongServiceLine('trace', 404, { areas: [] })!, /^trace is served by the relay: .*serves: nothing\)$/);
    assert.equal(wrongServiceLine('quarantine', 404, { error: 'no quarantined message X' }), null, 'a 404 of the area itself is not this');
    assert.equal(wrongServiceLine('bans', 200, { areas: ['bans'] }), null);
  });
});
