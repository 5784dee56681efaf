/**
 * The bound on records a consumer holds at once: at most `records` of them and, unless it is the
 * only one, at most `bytes` of values. A record larger than the byte bound still goes alone.
 */
export class InFlightRoom {
  private count = 0;
  private held = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly records: number,
    private readonly bytes: number,
  ) {}

  get inFlight(): number {
    return this.count;
  }

  private fits(size: number): boolean {
    return this.count === 0 || (this.count < this.records && this.held + size <= this.bytes);
  }

  /** Takes room for a record of `size` bytes, waiting at most `waitMs`; false when there was none. */
  async take(size: number, waitMs: number): Promise<boolean> {
    if (!this.fits(size)) {
      await this.change(waitMs);
      if (!this.fits(size)) return false;
    }
    this.count++;
    this.held += size;
    return true;
  }

  give(size: number): void {
    this.count--;
    this.held -= size;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once nothing is in flight, or after `waitMs`; true when nothing is. */
  async drained(waitMs: number): Promise<boolean> {
    const until = Date.now() + waitMs;
    while (this.count > 0 && Date.now() < until) await this.change(Math.max(1, until - Date.now()));
    return this.count === 0;
  }

  /** Resolves when a record gives its room back, or after waitMs. */
  private change(waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      this.waiters.add(wake);
    });
  }
}
