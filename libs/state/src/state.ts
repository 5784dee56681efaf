/**
 * Shared short-lived state: what several replicas must agree on (the fate of a
 * message, delivery de-duplication) and how a stage reaches the edge replica
 * holding a session. Redis in production, process memory in embedded mode.
 * Every method fails (rejects) rather than waits when the store is unreachable.
 */
export interface SharedState {
  readonly kind: 'redis' | 'memory';
  /** Sets key to value unless it is already set; returns the value now held (ours or the earlier one). */
  claim(key: string, value: string, ttlSeconds: number): Promise<string>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls onMessage for every message on the channel until the returned function is called. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  unhealthy(): string | null;
  close(): Promise<void>;
}
