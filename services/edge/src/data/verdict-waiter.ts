import { VerdictReply, type Verdict } from '@portcullis/contract';
import type { SharedState } from '@portcullis/state';
import type { Logger } from '@portcullis/telemetry';

interface Waiting {
  resolve: (v: Verdict | null) => void;
  timer: NodeJS.Timeout;
}

/**
 * Holds the sessions waiting for their verdict. Each edge replica listens on
 * its own channel; the record tells the deciding stage which channel to answer
 * on, so replies reach the replica holding the session and no other.
 */
export class VerdictWaiter {
  private readonly waiting = new Map<string, Waiting>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    readonly channel: string,
    private readonly state: SharedState,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.state.subscribe(this.channel, (message) => this.onMessage(message));
  }

  private onMessage(message: string): void {
    let parsed: VerdictReply;
    try {
      parsed = VerdictReply.parse(JSON.parse(message));
    } catch (err) {
      this.logger.warn({ channel: this.channel, error: (err as Error).message }, 'unreadable verdict reply ignored');
      return;
    }
    const w = this.waiting.get(parsed.id);
    if (!w) return; // the session stopped waiting (deadline passed or client gone)
    this.waiting.delete(parsed.id);
    clearTimeout(w.timer);
    w.resolve(parsed.verdict);
  }

  /**
   * Starts waiting for a message's verdict; call before the record is
   * published so a fast verdict is not missed. Resolves with null at the deadline.
   */
  expect(messageId: string, timeoutMs: number): { verdict: Promise<Verdict | null>; cancel: () => void } {
    let resolve!: (v: Verdict | null) => void;
    const verdict = new Promise<Verdict | null>((r) => (resolve = r));
    const timer = setTimeout(() => {
      this.waiting.delete(messageId);
      resolve(null);
    }, timeoutMs);
    this.waiting.set(messageId, { resolve, timer });
    return {
      verdict,
      cancel: () => {
        clearTimeout(timer);
        this.waiting.delete(messageId);
        resolve(null);
      },
    };
  }

  get pending(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiting.clear();
    await this.unsubscribe?.();
  }
}
