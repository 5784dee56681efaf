/**
 * Which offset of one partition may be committed when records are handled out of order: the
 * lowest offset still in flight, or one past the last offset passed when none is. Everything below
 * it is finished, so a consumer that starts there skips nothing (at-least-once); records above it
 * that finished early are handed over again after a restart, and the relay de-duplicates them.
 */
export class FinishedPrefix {
  /** Offsets handed out, in order; those before `head` are finished. */
  private order: bigint[] = [];
  private head = 0;
  /** Finished offsets not yet reached by `head`. */
  private readonly done = new Set<bigint>();
  /** One past the last offset passed (a dispatched record or the tail of a batch), null before any. */
  private next: bigint | null = null;

  /** False when this offset comes before one already passed (the partition is read again from further back). */
  follows(offset: string): boolean {
    return this.next === null || BigInt(offset) >= this.next;
  }

  /** A record was handed to its handler; offsets must come in increasing order. */
  dispatched(offset: string): void {
    const at = BigInt(offset);
    if (this.next !== null && at < this.next) throw new Error(`offset ${offset} dispatched out of order (next ${this.next})`);
    this.order.push(at);
    this.next = at + 1n;
  }

  /**
   * Everything up to this offset was seen (the last offset of a batch, which may be a control
   * record that never reaches a handler).
   */
  passed(offset: string): void {
    const past = BigInt(offset) + 1n;
    if (this.next === null || past > this.next) this.next = past;
  }

  finished(offset: string): void {
    this.done.add(BigInt(offset));
    while (this.head < this.order.length && this.done.delete(this.order[this.head]!)) this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** The offset to commit (the next record a new owner must read), or null before anything. */
  commitOffset(): string | null {
    if (this.head < this.order.length) return String(this.order[this.head]);
    return this.next === null ? null : String(this.next);
  }

  inFlight(): number {
    return this.order.length - this.head - this.done.size;
  }
}
