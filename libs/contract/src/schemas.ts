import type { z } from 'zod';
import { MailMeta, Verdict, Delivery, FailedRecipient } from './record.js';
import { Topics, type TopicName } from './topics.js';

const Decided = MailMeta.extend({ verdict: Verdict });
const Retry = MailMeta.extend({ verdict: Verdict, delivery: Delivery });
const Failed = MailMeta.extend({ verdict: Verdict, failures: FailedRecipient.array().min(1) });

/** One schema per mail topic, checked by whoever reads the topic. */
export const TopicSchemas = {
  [Topics.accepted]: MailMeta,
  [Topics.authChecked]: MailMeta,
  [Topics.reputationChecked]: MailMeta,
  [Topics.decided]: Decided,
  [Topics.retry]: Retry,
  [Topics.quarantine]: Decided,
  [Topics.failed]: Failed,
} as const satisfies Partial<Record<TopicName, z.ZodType<MailMeta>>>;

export type MailTopic = keyof typeof TopicSchemas;
export type MetaOf<T extends MailTopic> = z.infer<(typeof TopicSchemas)[T]>;
