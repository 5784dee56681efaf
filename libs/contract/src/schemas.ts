import type { z } from 'zod';
import { MailMeta, Verdict, Delivery, FailedRecipient } from './record.js';
import { Topics, RetryTierTopics, type RetryTierTopic, type TopicName } from './topics.js';

const Decided = MailMeta.extend({ verdict: Verdict });
const Retry = MailMeta.extend({ verdict: Verdict, delivery: Delivery });
const Failed = MailMeta.extend({ verdict: Verdict, failures: FailedRecipient.array().min(1) });

/** One schema per mail topic, checked by whoever reads the topic. */
const FixedSchemas = {
  [Topics.accepted]: MailMeta,
  [Topics.authChecked]: MailMeta,
  [Topics.reputationChecked]: MailMeta,
  [Topics.decided]: Decided,
  [Topics.retry]: Retry,
  [Topics.quarantine]: Decided,
  [Topics.failed]: Failed,
} as const satisfies Partial<Record<TopicName, z.ZodType<MailMeta>>>;

export const TopicSchemas: typeof FixedSchemas & Record<RetryTierTopic, typeof Retry> = {
  ...FixedSchemas,
  ...(Object.fromEntries(RetryTierTopics.map((t) => [t, Retry])) as Record<RetryTierTopic, typeof Retry>),
};

export type MailTopic = keyof typeof FixedSchemas | RetryTierTopic;
export type MetaOf<T extends MailTopic> = z.infer<(typeof TopicSchemas)[T]>;
