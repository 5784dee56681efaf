/**
 * A check planted by the budget tests (stages.extraChecks, thread: main): for a message whose
 * Subject says "stall-async" its promise never settles, as a look-up without a deadline would.
 */
export default async function stallAsync(input: { meta: { id: string }; raw: Buffer }): Promise<unknown[]> {
  const head = input.raw.subarray(0, 4096).toString('latin1');
  if (/^Subject: [^\r\n]*stall-async/m.test(head)) await new Promise(() => {});
  return [{ stage: 'reputation', check: 'test.planted-async', outcome: 'pass', reason: 'planted check looked at the message', score: 0, at: new Date().toISOString() }];
}
