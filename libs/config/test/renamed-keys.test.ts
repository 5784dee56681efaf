import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../src/load.js';

const minimal = { domains: [{ name: 'example.test' }] };
const users = { source: 'file', file: { path: '/etc/portcullis/users.yaml' }, maxFailuresPerConnection: 4 } as const;
const lists = { lists: [{ zone: 'zen.spamhaus.org', weight: 10 }], tarpitMs: 700 };

const parse = (doc: object) => {
  const seen: string[] = [];
  const config = parseConfig({ ...minimal, ...doc }, 'test', (from, to) => seen.push(`${from} -> ${to}`));
  return { config, seen };
};
const refusal = (doc: object): string => {
  try {
    parseConfig({ ...minimal, ...doc }, 'test', () => assert.fail('no deprecation is reported for a refused document'));
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  return assert.fail('expected a ConfigError');
};

test('login: the new key is read as it is, with nothing reported', () => {
  const { config, seen } = parse({ login: users });
  assert.equal(config.login.source, 'file');
  assert.equal(config.login.maxFailuresPerConnection, 4);
  assert.deepEqual(seen, []);
});

test('auth, the old name of login, is read as login and reported as deprecated', () => {
  const { config, seen } = parse({ auth: users });
  assert.equal(config.login.source, 'file');
  assert.equal(config.login.file?.path, '/etc/portcullis/users.yaml');
  assert.equal(config.login.maxFailuresPerConnection, 4);
  assert.equal('auth' in config, false);
  assert.deepEqual(seen, ['auth -> login']);
});

test('auth and login together are a config error naming both keys', () => {
  assert.match(refusal({ auth: users, login: users }), /auth: given together with login/);
});

test('reputation.connect, the old place of connect.dnsbl, is moved there, the rest of reputation kept', () => {
  const { config, seen } = parse({ reputation: { connect: lists, allow: { ips: ['192.0.2.1'] } } });
  assert.equal(config.connect.dnsbl.lists[0]?.zone, 'zen.spamhaus.org');
  assert.equal(config.connect.dnsbl.tarpitMs, 700);
  assert.deepEqual(config.reputation.allow.ips, ['192.0.2.1']);
  assert.deepEqual(seen, ['reputation.connect -> connect.dnsbl']);
  assert.equal(parse({ connect: { dnsbl: lists } }).config.connect.dnsbl.tarpitMs, 700);
});

test('reputation.connect beside connect.dnsbl is a config error naming both keys', () => {
  assert.match(refusal({ reputation: { connect: lists }, connect: { dnsbl: lists } }), /reputation\.connect: given together with connect\.dnsbl/);
});

test('an old key keeps its validation, reported under the new name', () => {
  assert.throws(
    () => parseConfig({ ...minimal, auth: { source: 'file' } }, 'test', () => undefined),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /login\.file: login\.file is required when login\.source is file/);
      return true;
    },
  );
});

test('the document given is not changed', () => {
  const doc = { ...minimal, auth: users, reputation: { connect: lists } };
  parseConfig(doc, 'test', () => undefined);
  assert.deepEqual(Object.keys(doc), ['domains', 'auth', 'reputation']);
  assert.deepEqual(Object.keys(doc.reputation), ['connect']);
});

test('sections whose fields all have defaults need not be given', () => {
  const config = parseConfig(minimal, 'test');
  assert.equal(config.login.source, 'none');
  assert.equal(config.smtp.mx.enabled, true);
  assert.deepEqual(config.smtp.requireTls, { senderDomains: [], networks: [] });
  assert.equal(config.tls.reloadCheckMs, 30000);
  assert.equal(config.state.kind, 'memory');
  assert.equal(config.log.level, 'info');
  assert.equal(config.connect.dnsbl.refuseAt, 10);
});
