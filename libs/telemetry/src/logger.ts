import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout. Keys that could carry secrets are redacted whatever
 * logs them; message bodies are never passed to the logger at all.
 */
export function createLogger(opts: { level: string; service: string }): Logger {
  return pino({
    level: opts.level,
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'pass', '*.pass', 'auth.credentials', 'sasl', '*.sasl'],
      censor: '[redacted]',
    },
  });
}
