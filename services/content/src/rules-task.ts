import { workerData } from 'node:worker_threads';
import type { MailMeta } from '@portcullis/contract';
import { bufferOf, serveTasks } from '@portcullis/workers/serve';
import type { ContentConfig } from './checks/context.js';
import { runRules } from './rules.js';

/**
 * The content stage's parsing worker: the MIME parse of libs/message (attachments read up to maxInspectBytes, zip
 * entries) and our rules (attachments, display name, look-alikes, link mismatch, Reply-To) run
 * here, where a message that takes too long can be stopped. clamd and rspamd stay on the main
 * thread: they are I/O, bounded by their own timeouts.
 */
const { config, localDomains } = workerData as { config: ContentConfig; localDomains: string[] };

serveTasks({
  rules: (input: { bytes: Uint8Array; meta: MailMeta; now: number }) => runRules(bufferOf(input.bytes), input.meta, config, localDomains, new Date(input.now)),
});
