import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../src/load.js';

const minimal = () => ({ domains: [{ name: 'example.test' }] });

test('a minimal document gets the documented defaults', () => {
  const c = parseConfig(minimal());
  assert.equal(c.hostname, 'localhost');
  assert.deepEqual(c.domains, [{ name: 'example.test', localPartCase: 'preserve' }]);
  assert.equal(c.smtp.maxMessageBytes, 25 * 1024 * 1024);
  assert.equal(c.smtp.maxRecipients, 100);
  assert.equal(c.smtp.maxClients, 500);
  assert.equal(c.smtp.storeTimeoutMs, 10_000);
  assert.equal(c.smtp.verdictTimeoutMs, 20_000);
  assert.equal(c.smtp.bareLineEndings, 'reject');
  assert.deepEqual(c.smtp.mx.listen, { host: '0.0.0.0', port: 2525 });
  assert.deepEqual(c.http.listen, { host: '127.0.0.1', port: 8025 });
  assert.equal(c.bus.kind, 'memory');
  assert.equal(c.bus.memory.maxRecordsPerTopic, 10_000);
  assert.equal(c.state.kind, 'memory');
  assert.equal(c.stages.concurrency, 32);
  assert.equal(c.relay.maildir, 'var/mail');
  assert.deepEqual(c.relay.retryDelaysSeconds, [60, 300, 900, 1800, 3600, 14400]);
  assert.equal(c.log.level, 'info');
});

test('partial sections are completed with defaults', () => {
  const c = parseConfig({ ...minimal(), smtp: { maxRecipients: 5 } });
  assert.equal(c.smtp.maxRecipients, 5);
  assert.equal(c.smtp.maxMessageBytes, 25 * 1024 * 1024);
});

test('domain names are lower-cased and downstream gets defaults', () => {
  const c = parseConfig({ domains: [{ name: 'Example.TEST', downstream: { host: 'mail.internal' } }] });
  assert.deepEqual(c.domains[0], { name: 'example.test', downstream: { host: 'mail.internal', port: 25, tls: 'opportunistic' }, localPartCase: 'preserve' });
});

test('bus.kind kafka without bus.kafka is an error naming bus.kafka', () => {
  assert.throws(
    () => parseConfig({ ...minimal(), bus: { kind: 'kafka' } }),
    (e: unknown) => e instanceof ConfigError && /\bbus\.kafka\b/.test(e.message),
  );
});

test('bus.kind kafka with brokers gets the kafka defaults', () => {
  const c = parseConfig({ ...minimal(), bus: { kind: 'kafka', kafka: { brokers: ['kafka-0:9092'] } } });
  assert.equal(c.bus.kafka?.clientId, 'portcullis');
  assert.equal(c.bus.kafka?.replicationFactor, 3);
  assert.equal(c.bus.kafka?.createTopics, true);
});

test('state.kind redis without state.redis is an error naming state.redis', () => {
  assert.throws(
    () => parseConfig({ ...minimal(), state: { kind: 'redis' } }),
    (e: unknown) => e instanceof ConfigError && /\bstate\.redis\b/.test(e.message),
  );
});

test('at least one domain is required', () => {
  assert.throws(
    () => parseConfig({}),
    (e: unknown) => e instanceof ConfigError && /\bdomains\b/.test(e.message),
  );
  assert.throws(
    () => parseConfig({ domains: [] }),
    (e: unknown) => e instanceof ConfigError && /\bdomains\b/.test(e.message),
  );
});

test('stages: the budget and worker defaults, and a budget shorter than an engine timeout names stages.budgetMs', () => {
  const c = parseConfig(minimal());
  assert.deepEqual(c.stages, { concurrency: 32, budgetMs: 60_000, maxAttempts: 3, workers: 2, workerQueue: 256, workerMaxHeapMb: 256, extraChecks: [] });
  assert.throws(
    () => parseConfig({ ...minimal(), stages: { budgetMs: 20_000 }, content: { antivirus: { enabled: true } } }),
    (e: unknown) => e instanceof ConfigError && /stages\.budgetMs/.test(e.message) && /content\.antivirus\.timeoutMs \(30000\)/.test(e.message),
  );
  // The engine is off: its timeout does not matter.
  assert.equal(parseConfig({ ...minimal(), stages: { budgetMs: 20_000 } }).stages.budgetMs, 20_000);
  const planted = parseConfig({ ...minimal(), stages: { extraChecks: [{ stage: 'content', module: '/opt/checks/site.js' }] } });
  assert.deepEqual(planted.stages.extraChecks, [{ stage: 'content', module: '/opt/checks/site.js', thread: 'worker' }]);
});
