import type { Config } from '@portcullis/config';
import { BindError, listenFailure } from '@portcullis/telemetry';

const SMTP_LISTENERS = ['mx', 'submission', 'submissions'] as const;

/**
 * The one line for a listener that could not bind, or null when `err` is something else. The
 * health and admin servers say it themselves (BindError); an SMTP listener's error is Node's own,
 * matched here to the smtp.<listener>.listen key by its port.
 */
export function bindFailureLine(err: unknown, config: Config): string | null {
  if (err instanceof BindError) return err.message;
  const f = listenFailure(err);
  if (!f) return null;
  const name = SMTP_LISTENERS.find((n) => config.smtp[n].enabled && config.smtp[n].listen.port === f.port);
  const listen = name ? config.smtp[name].listen : { host: f.address ?? '?', port: f.port ?? 0 };
  return new BindError(name ? `smtp.${name}.listen` : 'a listener', listen.host, listen.port, f.code).message;
}
