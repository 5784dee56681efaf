import { defineReply } from '../reply.js';

/**
 * The end of DATA once the pipeline's verdict came back in time (replyForVerdict). Code and
 * enhanced code here are the defaults: a verdict may name its own enhanced code, and the basic
 * code then follows it. The reason comes from the check that decided (auth, reputation, content)
 * and is written for the sender. A deliver or quarantine verdict is answered with data.queued.
 */

export const reject = defineReply({
  id: 'verdict.reject',
  code: 550,
  enhanced: '5.7.1',
  text: (reason: string, messageId: string) => `Rejected: ${reason} (${messageId})`,
  example: ['virus found: Eicar-Test-Signature', '01JD3Q9Z8X7W6V5T4S3R2Q1P0N'],
  checks: ['acceptMessage', 'refusalForVerdict'],
});

export const tempfail = defineReply({
  id: 'verdict.tempfail',
  code: 451,
  enhanced: '4.7.1',
  text: (reason: string, messageId: string) => `Try again later: ${reason} (${messageId})`,
  example: ['DNS lookup timed out', '01JD3Q9Z8X7W6V5T4S3R2Q1P0N'],
  checks: ['acceptMessage', 'refusalForVerdict'],
});
