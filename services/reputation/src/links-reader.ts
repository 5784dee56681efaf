import type { MailRecord } from '@portcullis/contract';
import type { RecordBudget } from '@portcullis/bus';
import { transferableCopy, type WorkerPool } from '@portcullis/workers';
import { MAX_PARSED_BYTES, type MessageLinks } from './message-links.js';

/** Reads a record's links within its budget. */
export type LinkReader = (record: MailRecord, ours: ReadonlySet<string>, maxLinks: number, budget: RecordBudget) => Promise<MessageLinks>;

/** The worker task module (compiled beside this file). */
export const LINKS_TASK = new URL('./links-task.js', import.meta.url);

/** Links read in a worker of the pool: the part of the message that is parsed is moved there, not copied again. */
export function workerLinkReader(pool: WorkerPool): LinkReader {
  return (record, ours, maxLinks, budget) => {
    const { bytes, transfer } = transferableCopy(record.raw.subarray(0, MAX_PARSED_BYTES));
    return budget.inWorker<MessageLinks>(pool, 'links', { bytes, envelope: record.meta.envelope, ours: [...ours], maxLinks }, transfer);
  };
}
