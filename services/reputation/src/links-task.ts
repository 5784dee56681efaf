import { bufferOf, serveTasks } from '@portcullis/workers/serve';
import type { Envelope } from '@portcullis/contract';
import { messageLinks } from './message-links.js';

/**
 * The reputation stage's parsing worker: the MIME parse and link extraction (libs/message) run here, where a
 * message that takes too long can be stopped (the worker is terminated). The DNS look-ups, the
 * lists and the history stay on the main thread (they wait on I/O and share caches).
 */
serveTasks({
  links: (input: { bytes: Uint8Array; envelope: Envelope; ours: string[]; maxLinks: number }) =>
    messageLinks(bufferOf(input.bytes), input.envelope, new Set(input.ours), input.maxLinks),
});
