import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import type { Logger } from '@portcullis/telemetry';

/** How long a first connection may take before "unreachable" is said (a refused port is said at once). */
const GRACE_MS = 3000;
const POLL_MS = 500;

/** The Redis URL without credentials, fit for a log line. */
export function redisUrlForLog(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(state.redis.url unparseable)';
  }
}

/**
 * One log line when Redis is unreachable (at start, or later) and one when it answers again, so the
 * operator sees it without reading /readyz. The state's own health (null: connected) is polled: the
 * shared-state interface has no events, and a poll is cheap. Returns the function that stops it.
 */
export function watchState(state: SharedState, config: Config, logger: Logger, now = Date.now): () => void {
  if (state.kind !== 'redis') return () => {};
  const where = redisUrlForLog(config.state.redis!.url);
  const started = now();
  let reachable: boolean | null = null;
  const check = () => {
    const problem = state.unhealthy();
    if (problem === null) {
      if (reachable !== true) logger.info({ redis: where }, `Redis reachable at ${where}`);
      reachable = true;
      return;
    }
    // Still on its first attempt: give a slow network a moment before calling it down.
    if (reachable === null && problem === 'connecting' && now() - started < GRACE_MS) return;
    if (reachable !== false) {
      logger.error(
        { redis: where, problem },
        `Redis unreachable at ${where} (${problem}): rate limits fail open, AUTH fails closed (454), the relay holds mail until it answers; see docs/operations.md "Redis"`,
      );
    }
    reachable = false;
  };
  const timer = setInterval(check, POLL_MS);
  timer.unref();
  check();
  return () => clearInterval(timer);
}

/**
 * Waits (up to `timeoutMs`) until the shared state answers, as the start waits for the broker:
 * services read and write it from their first record, and a process that starts without it would
 * only fail its first commands. The watcher above says why it waits.
 */
export async function untilStateReachable(state: SharedState, timeoutMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = state.unhealthy();
    if (problem === null) return;
    if (Date.now() > deadline) throw new Error(`Redis (state.redis.url) did not answer within ${Math.round(timeoutMs / 1000)} s: ${problem}`);
    await sleep(200);
  }
}
