import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BusSetupError, finalTopicError } from '../src/index.js';

// The broker's error codes as kafkajs turns them into errors (its own table, not a copy of it).
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };
// kafkajs's error classes, through require: it exports them by a spread that ES imports cannot see
// (and its type declarations leave some out).
const { KafkaJSAggregateError, KafkaJSCreateTopicError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = require('kafkajs') as {
  KafkaJSAggregateError: new (message: string, errors: Error[]) => Error;
  KafkaJSCreateTopicError: new (e: Error, topic: string) => Error;
  KafkaJSConnectionError: new (message: string) => Error;
  KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error;
};
const refused = (code: number, topic: string) => new KafkaJSCreateTopicError(createErrorFromCode(code), topic);
const context = { replicationFactor: 3, brokers: 1 };

test('a replication factor above the broker count is final, named by topic, with the counts', () => {
  const err = finalTopicError(new KafkaJSAggregateError('Topic creation errors', [refused(38, 'portcullis.mail.accepted.v1'), refused(38, 'portcullis.mail.decided.v1')]), context);
  assert.ok(err instanceof BusSetupError);
  assert.equal(
    err.message,
    'cannot create topic portcullis.mail.accepted.v1: INVALID_REPLICATION_FACTOR (Replication-factor is invalid): bus.kafka.replicationFactor is 3 and the cluster has 1 broker(s) (and 1 more topic(s))',
  );
});

test('authorization refusals and invalid configs are final', () => {
  assert.match(finalTopicError(new KafkaJSAggregateError('x', [refused(29, 't1')]), context)!.message, /^cannot create topic t1: TOPIC_AUTHORIZATION_FAILED .*ACLs/);
  assert.match(finalTopicError(new KafkaJSAggregateError('x', [refused(40, 't2')]), context)!.message, /^cannot create topic t2: INVALID_CONFIG /);
  // Refused on the cluster (no topic of its own): said as such.
  assert.match(finalTopicError(createErrorFromCode(31), context)!.message, /^cannot create the topics: CLUSTER_AUTHORIZATION_FAILED .*ACLs/);
});

test('what may pass is not final: no connection, retries exhausted, a topic that now exists', () => {
  const conn = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  assert.equal(finalTopicError(conn, context), null);
  assert.equal(finalTopicError(new KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 1000 }), context), null);
  assert.equal(finalTopicError(new KafkaJSAggregateError('x', [refused(36, 't')]), context), null);
  assert.equal(finalTopicError(createErrorFromCode(5), context), null); // LEADER_NOT_AVAILABLE: retriable
});
