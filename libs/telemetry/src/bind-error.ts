/**
 * A listener that could not bind, told as one line an operator can act on: the config key whose
 * address it is, the address, and Node's reason (EADDRINUSE, EACCES, EADDRNOTAVAIL).
 */
export class BindError extends Error {
  constructor(
    readonly key: string,
    readonly host: string,
    readonly port: number,
    readonly code: string,
    hint?: string,
  ) {
    super(`${key}: cannot listen on ${formatAddress(host, port)}: ${REASONS[code] ?? code}${hint ? `; ${hint}` : ''}`);
    this.name = 'BindError';
  }
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (EADDRINUSE)',
  EACCES: 'permission denied (EACCES; ports below 1024 need CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no such address on this host (EADDRNOTAVAIL)',
};

export const formatAddress = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Node's error from listen(), if it is one (it carries code, and address and port where known). */
export function listenFailure(err: unknown): { code: string; address?: string; port?: number } | null {
  const e = err as { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown } | null;
  if (!e || typeof e.code !== 'string' || e.syscall !== 'listen') return null;
  return { code: e.code, ...(typeof e.address === 'string' ? { address: e.address } : {}), ...(typeof e.port === 'number' ? { port: e.port } : {}) };
}

/** Runs listen(); a bind failure becomes a BindError naming `key`, anything else is rethrown. */
export async function listenAs<T>(key: string, host: string, port: number, listen: () => Promise<T>, hint?: string): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const f = listenFailure(err);
    if (!f) throw err;
    throw new BindError(key, host, port, f.code, f.code === 'EADDRINUSE' ? hint : undefined);
  }
}
