import { ConfigError, type Config } from '@portcullis/config';

/**
 * Per-process ports over the one config file: several services on one host share the YAML but
 * not its HTTP ports. A flag wins over the environment variable; both win over the file.
 */
export const PORT_OVERRIDES = {
  http: { flag: 'http-port', env: 'PORTCULLIS_HTTP_PORT', key: 'http.listen' },
  admin: { flag: 'admin-port', env: 'PORTCULLIS_ADMIN_PORT', key: 'http.admin.listen' },
} as const;

export type PortFlags = Partial<Record<(typeof PORT_OVERRIDES)[keyof typeof PORT_OVERRIDES]['flag'], string>>;

function portOf(text: string, from: string): number {
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new ConfigError(`${from}: "${text}" is not a port (0-65535)`);
  return n;
}

/** The config with http.listen.port and http.admin.listen.port replaced where a flag or variable says so. */
export function applyPortOverrides(config: Config, flags: PortFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (o: (typeof PORT_OVERRIDES)[keyof typeof PORT_OVERRIDES]) => {
    const flag = flags[o.flag];
    if (flag !== undefined) return portOf(flag, `--${o.flag}`);
    const fromEnv = env[o.env];
    return fromEnv ? portOf(fromEnv, o.env) : undefined;
  };
  const http = pick(PORT_OVERRIDES.http);
  const admin = pick(PORT_OVERRIDES.admin);
  if (http === undefined && admin === undefined) return config;
  const out: Config = {
    ...config,
    http: {
      ...config.http,
      listen: { ...config.http.listen, port: http ?? config.http.listen.port },
      admin: { ...config.http.admin, listen: { ...config.http.admin.listen, port: admin ?? config.http.admin.listen.port } },
    },
  };
  if (out.http.admin.enabled && out.http.admin.listen.port === out.http.listen.port && out.http.listen.port !== 0) {
    throw new ConfigError(
      `http.admin.listen.port: ${out.http.listen.port} is also http.listen's port for this process (the admin API never shares the metrics port); give another with --admin-port or ${PORT_OVERRIDES.admin.env}`,
    );
  }
  return out;
}

/** Said after "already in use" for each key, so the operator knows the way out on a shared host. */
export const IN_USE_HINT = {
  http: `another process has it; give each process on one host its own with --${PORT_OVERRIDES.http.flag} or ${PORT_OVERRIDES.http.env}`,
  admin: `another process has it; give each process on one host its own with --${PORT_OVERRIDES.admin.flag} or ${PORT_OVERRIDES.admin.env}`,
};
