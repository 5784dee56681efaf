import { Headers, RetryTierTopics, Topics } from '@portcullis/contract';
import type { KeptRecord } from '@portcullis/bus';

/** What the operator sees of one dead-lettered record: where it was, why, how often tried; never the body. */
export interface DeadLetterSummary {
  partition: number;
  offset: string;
  /** When it was dead-lettered. */
  time: string;
  reason: string;
  /** Where it came from, and which consumer group gave up on it. */
  sourceTopic: string;
  sourcePartition: string;
  sourceOffset: string;
  group: string;
  /** Times a stage gave up on it (over its budget), summed over replays; 0 when never counted. */
  attempts: number;
  messageId: string | null;
  size: number;
}

const DEAD_LETTER_PREFIX = 'portcullis-dead-letter-';

/** Topics a record may be replayed to: those a consumer reads (never the dead-letter topic itself). */
export const REPLAYABLE_TOPICS: ReadonlySet<string> = new Set<string>([...Object.values(Topics), ...RetryTierTopics].filter((t) => t !== Topics.deadLetter));

export function summarise(rec: KeptRecord): DeadLetterSummary {
  const h = rec.headers;
  return {
    partition: rec.partition,
    offset: rec.offset,
    time: rec.timestamp,
    reason: h[Headers.deadLetterReason] ?? '',
    sourceTopic: h[Headers.deadLetterTopic] ?? '',
    sourcePartition: h[Headers.deadLetterPartition] ?? '',
    sourceOffset: h[Headers.deadLetterOffset] ?? '',
    group: h[Headers.deadLetterGroup] ?? '',
    attempts: Number.parseInt(h[Headers.attempts] ?? '0', 10) || 0,
    messageId: h[Headers.messageId] ?? rec.key,
    size: rec.size,
  };
}

/**
 * The headers a replayed record goes back with: the original ones, attempts included (so a stage
 * that gives up on it again adds to the count), without where and why it was dead-lettered.
 */
export function replayHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(DEAD_LETTER_PREFIX)));
}
