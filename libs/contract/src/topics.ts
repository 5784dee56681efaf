/**
 * The topics the services meet on. Each name carries its schema version, so a
 * change of schema is a new topic and old readers never see records they
 * cannot parse (they drain the old topic, then stop).
 */
export const Topics = {
  /** edge → auth: a message the edge has durably accepted. */
  accepted: 'portcullis.mail.accepted.v1',
  /** auth → reputation */
  authChecked: 'portcullis.mail.auth-checked.v1',
  /** reputation → content */
  reputationChecked: 'portcullis.mail.reputation-checked.v1',
  /** content → relay: carries the final verdict. */
  decided: 'portcullis.mail.decided.v1',
  /** relay → relay: deliveries that failed temporarily, tried again later. */
  retry: 'portcullis.mail.retry.v1',
  /** relay: mail held for the operator (late rejects, quarantine verdicts). */
  quarantine: 'portcullis.mail.quarantine.v1',
  /** relay: recipients that failed permanently, kept for the bounce stage. */
  failed: 'portcullis.mail.failed.v1',
  /** any consumer: records that could not be read, with the reason in headers. */
  deadLetter: 'portcullis.dead-letter.v1',
} as const;

/**
 * relay → relay: one retry topic per step of the retry schedule (relay.retryDelaysSeconds). Every
 * record in a tier waits the same delay, so their due times follow their order in a partition and
 * none waits behind one that is due later.
 */
export const RetryTierTopics = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `portcullis.mail.retry.t${i}.v1` as const);
export type RetryTierTopic = `portcullis.mail.retry.t${number}.v1`;

export type TopicName = (typeof Topics)[keyof typeof Topics] | RetryTierTopic;

/** Kafka record headers we set; values are strings. */
export const Headers = {
  messageId: 'portcullis-message-id',
  schema: 'portcullis-schema',
  /** Epoch milliseconds before which a consumer must not handle the record (delayed retries). */
  notBefore: 'portcullis-not-before',
  deadLetterReason: 'portcullis-dead-letter-reason',
  deadLetterTopic: 'portcullis-dead-letter-topic',
  deadLetterPartition: 'portcullis-dead-letter-partition',
  deadLetterOffset: 'portcullis-dead-letter-offset',
  deadLetterGroup: 'portcullis-dead-letter-group',
  /**
   * How many times a stage has tried this record and given up (over its budget), summed over
   * replays: set on a dead-lettered record, kept when it is replayed, added to if it fails again.
   */
  attempts: 'portcullis-attempts',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;
