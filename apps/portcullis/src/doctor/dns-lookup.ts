import { Resolver } from 'node:dns/promises';

/**
 * The look-ups the doctor makes. A small interface of its own for now, backed
 * by node:dns; libs/dns (DnsResolver, arriving with the DNS layer) can take its
 * place later. "Not found" answers are empty lists, never errors.
 */
export interface DoctorDns {
  mx(name: string): Promise<{ exchange: string; priority: number }[]>;
  txt(name: string): Promise<string[]>;
  addresses(name: string): Promise<string[]>;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

async function orEmpty<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

/** servers: "host" or "host:port" (default: the system's resolvers). Every look-up gives up after timeoutMs. */
export function nodeDns(opts: { servers?: string[]; timeoutMs?: number } = {}): DoctorDns {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 3000, tries: 2 });
  if (opts.servers?.length) r.setServers(opts.servers);
  return {
    mx: (name) => orEmpty(r.resolveMx(name)),
    txt: async (name) => (await orEmpty(r.resolveTxt(name))).map((chunks) => chunks.join('')),
    addresses: async (name) => [...(await orEmpty(r.resolve4(name))), ...(await orEmpty(r.resolve6(name)))],
  };
}
