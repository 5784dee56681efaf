import type { Leadership } from './leadership.js';
import { LeaseConflict, type LeaseRecord, type LeaseStore } from './lease-store.js';

export interface ElectOptions {
  /** Unique per replica: the pod name. */
  identity: string;
  store: LeaseStore;
  leaseDurationSeconds: number;
  renewIntervalSeconds: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Told about API errors (they never throw out of the loop). */
  onError?: (err: Error) => void;
}

/**
 * Leader election on a Lease, as client-go does it: take the lease when it is
 * free or its holder has not renewed within leaseDuration, renew it every
 * renewInterval, and step down as soon as a renewal cannot be confirmed before
 * the lease would run out. Expiry is judged on our own clock from when we last
 * saw the record change, never on the other replica's timestamps (clock skew).
 */
export function electLeader(opts: ElectOptions): Leadership & { tick(): Promise<void> } {
  const now = opts.now ?? Date.now;
  const durationMs = opts.leaseDurationSeconds * 1000;
  const listeners: ((leader: boolean) => void)[] = [];
  let leader = false;
  let lastRenewedAt = 0;
  let observed: { key: string; at: number } | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const setLeader = (value: boolean) => {
    if (value === leader) return;
    leader = value;
    for (const l of listeners) l(value);
  };
  const mine = (r: LeaseRecord, acquire: boolean, transitions: number): LeaseRecord => ({
    holder: opts.identity,
    leaseDurationSeconds: opts.leaseDurationSeconds,
    acquireTime: acquire ? new Date(now()) : r.acquireTime,
    renewTime: new Date(now()),
    transitions,
    ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}),
  });

  async function attempt(): Promise<void> {
    const current = await opts.store.get();
    if (!current) {
      await opts.store.create(mine({ holder: null, leaseDurationSeconds: 0, acquireTime: null, renewTime: null, transitions: 0 }, true, 0));
      return won();
    }
    const key = `${current.holder}|${current.renewTime?.toISOString()}|${current.resourceVersion}`;
    if (observed?.key !== key) observed = { key, at: now() };
    if (current.holder === opts.identity) {
      await opts.store.replace(mine(current, false, current.transitions));
      return won();
    }
    const expired = !current.holder || now() - observed.at > current.leaseDurationSeconds * 1000;
    if (!expired) return setLeader(false);
    await opts.store.replace(mine(current, true, current.transitions + 1));
    return won();
  }
  function won() {
    lastRenewedAt = now();
    setLeader(true);
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    try {
      await attempt();
    } catch (err) {
      if (!(err instanceof LeaseConflict)) opts.onError?.(err as Error);
      // Another replica wrote first, or the API did not answer: keep leading only while our lease surely holds.
      if (err instanceof LeaseConflict || now() - lastRenewedAt >= durationMs - opts.renewIntervalSeconds * 1000) setLeader(false);
    }
  }

  const timer = setInterval(() => {
    running = running.then(tick);
  }, opts.renewIntervalSeconds * 1000);
  timer.unref();
  running = running.then(tick);

  return {
    isLeader: () => leader && !stopped,
    onChange: (l) => void listeners.push(l),
    tick: () => (running = running.then(tick)),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      if (!leader) return;
      setLeader(false);
      // Release: an empty holder lets another replica take over without waiting for expiry.
      const current = await opts.store.get().catch(() => null);
      if (current?.holder === opts.identity) {
        await opts.store.replace({ ...current, holder: null, leaseDurationSeconds: 1, renewTime: new Date(now()) }).catch((err: Error) => opts.onError?.(err));
      }
    },
  };
}
