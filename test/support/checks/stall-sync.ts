/**
 * A check planted by the budget tests (stages.extraChecks, thread: worker): for a message whose
 * Subject says "stall-sync" it loops for ever, synchronously, as a catastrophic regular
 * expression would; it looks at every other message and says so.
 */
export default function stallSync(input: { meta: { id: string }; raw: Buffer }): unknown[] {
  const head = input.raw.subarray(0, 4096).toString('latin1');
  if (/^Subject: [^\r\n]*stall-sync/m.test(head)) {
    for (;;) {
      // never returns
    }
  }
  return [{ stage: 'content', check: 'test.planted-sync', outcome: 'pass', reason: 'planted check looked at the message', score: 0, at: new Date().toISOString() }];
}
