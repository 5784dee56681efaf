/**
 * data.budget: an upper bound on message bytes held in memory by all sessions
 * of this edge together. Each session holds its message until the durable
 * write completes; without a shared bound, maxClients × maxMessageBytes could
 * exhaust the pod's memory. A session that cannot get room is told 452 4.3.1.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  tryTake(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}
