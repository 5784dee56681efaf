import net from 'node:net';

/**
 * For tests in any package that need the shared test Redis
 * (`@portcullis/state/testing`; never imported by service code).
 */
export const TEST_REDIS_URL = process.env.PORTCULLIS_TEST_REDIS || 'redis://127.0.0.1:16379';

/** True when a Redis answers PING at host:port within a second. */
export function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * false, or why the shared-Redis tests are skipped: without PORTCULLIS_TEST_REDIS
 * and with nothing at the default address (`make test-unit`) they skip; with the
 * variable set (`make test`), an unreachable Redis fails them instead.
 */
export async function sharedRedisSkip(): Promise<string | false> {
  if (process.env.PORTCULLIS_TEST_REDIS) return false;
  const u = new URL(TEST_REDIS_URL);
  return (await ping(u.hostname, Number(u.port || 6379))) ? false : `no Redis at ${TEST_REDIS_URL} (set PORTCULLIS_TEST_REDIS or run make test)`;
}
