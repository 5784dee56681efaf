/**
 * A fixed number of slots for talking to one engine, with a bounded line of waiters:
 * an engine never sees more than `size` requests from this process, and when the line
 * is full (or a waiter's deadline passes) the caller gets an error it can turn into its
 * failure policy instead of queueing without end.
 */
export class SlotPool {
  private busy = 0;
  private readonly line: Array<() => void> = [];

  constructor(
    readonly size: number,
    readonly maxWaiting: number = size * 16,
  ) {}

  get inUse(): number {
    return this.busy;
  }

  async run<T>(deadlineMs: number, work: () => Promise<T>): Promise<T> {
    await this.enter(deadlineMs);
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(deadlineMs: number): Promise<void> {
    if (this.busy < this.size) {
      this.busy++;
      return Promise.resolve();
    }
    if (this.line.length >= this.maxWaiting) return Promise.reject(new Error('engine busy: too many scans waiting'));
    return new Promise((admit, refuse) => {
      const turn = (): void => {
        clearTimeout(timer);
        admit();
      };
      const timer = setTimeout(() => {
        const at = this.line.indexOf(turn);
        if (at >= 0) this.line.splice(at, 1);
        refuse(new Error('engine busy: no free slot before the deadline'));
      }, deadlineMs);
      this.line.push(turn);
    });
  }

  private leave(): void {
    const next = this.line.shift();
    if (next)
      next(); // the slot goes straight to the next waiter
    else this.busy--;
  }
}
