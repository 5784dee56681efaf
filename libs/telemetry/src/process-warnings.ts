import type { Logger } from 'pino';

/**
 * Node prints process warnings (e.g. kafkajs's TimeoutNegativeWarning) as plain text on stderr,
 * which breaks a JSON log stream. Its printer is an ordinary 'warning' listener (absent under
 * --no-warnings): replace it with a JSON line. The event itself, and --no-warnings, still work.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  const log = logger.child({ component: 'node' });
  process.on('warning', (w: Error & { code?: string }) => {
    log.warn({ warning: w.name, ...(w.code ? { code: w.code } : {}) }, w.message);
  });
}
