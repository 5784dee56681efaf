import { join } from 'node:path';
import { ROOT } from './paths.js';
import { RawSmtp } from './raw-smtp.js';
import { makeMessage, sendRaw, type SendResult } from './smtp.js';
import { waitFor } from './wait.js';
import type { MailboxSink } from './sink.js';

const CHECKS = join(ROOT, 'test', 'dist', 'support', 'checks');

/**
 * The stages section for the budget tests: a short budget, two attempts, and two planted checks
 * (test/support/checks): one that loops for ever in a content worker, one whose promise never
 * settles on the reputation stage's main thread. The auth timeout must stay under the budget.
 */
export function budgetYaml(budgetMs: number, maxAttempts: number): string {
  return `stages:
  budgetMs: ${budgetMs}
  maxAttempts: ${maxAttempts}
  extraChecks:
    - { stage: content, module: ${join(CHECKS, 'stall-sync.js')}, thread: worker }
    - { stage: reputation, module: ${join(CHECKS, 'stall-async.js')}, thread: main }
authentication:
  timeoutMs: ${Math.floor(budgetMs * 0.8)}
`;
}

/** Milliseconds from connect to the 220 greeting of a new SMTP client. */
export async function greetingMs(port: number): Promise<number> {
  const t0 = performance.now();
  const { client, greeting } = await RawSmtp.open(port);
  const ms = performance.now() - t0;
  client.close();
  if (!greeting.startsWith('220')) throw new Error(`greeting was ${greeting}`);
  return ms;
}

export interface StuckRun {
  stuck: Array<SendResult & { at: number }>;
  normal: Array<SendResult & { at: number }>;
  greetings: number[];
}

/**
 * Sends one message for each planted check, then, while they are stuck, greets new clients and
 * sends normal mail side by side (delivered to the sink); returns every reply with the time it came.
 */
export async function runStuckAndNormal(smtpPort: number, sink: MailboxSink, normalCount = 6): Promise<StuckRun> {
  const stamp = <T>(p: Promise<T>) => p.then((r) => ({ ...r, at: Date.now() }));
  const stuck = Promise.all([stamp(sendRaw(smtpPort, makeMessage(`stall-sync ${Date.now()}`))), stamp(sendRaw(smtpPort, makeMessage(`stall-async ${Date.now()}`)))]);
  await new Promise((r) => setTimeout(r, 500));
  const sending: Array<Promise<SendResult & { at: number }>> = [];
  const greetings: number[] = [];
  for (let i = 0; i < normalCount; i++) {
    greetings.push(await greetingMs(smtpPort));
    sending.push(stamp(sendRaw(smtpPort, makeMessage(`normal ${i} ${Date.now()}`))));
  }
  const normal = await Promise.all(sending);
  for (const r of normal) if (r.messageId) await waitFor(`delivery of ${r.messageId}`, () => sink.find(r.messageId!)[0], 60_000);
  return { stuck: await stuck, normal, greetings };
}
