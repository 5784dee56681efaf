/**
 * Who runs singleton work (quarantine expiry, digests, reports): exactly one
 * replica at a time. The relay asks `isLeader()` before each run of such a job,
 * or listens with `onChange`. Embedded mode uses `alwaysLeader()`.
 */
export interface Leadership {
  /** True while this process holds the lease (checked before each singleton run). */
  isLeader(): boolean;
  /** Called with true when this process becomes leader, false when it stops being it. */
  onChange(listener: (leader: boolean) => void): void;
  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

/** Embedded mode and single-replica installs: this process is the leader, always. */
export function alwaysLeader(): Leadership {
  return {
    isLeader: () => true,
    onChange: (listener) => queueMicrotask(() => listener(true)),
    stop: async () => {},
  };
}
