import { readFileSync } from 'node:fs';
import type { Config } from '@portcullis/config';
import { ConfigError } from '@portcullis/config';
import type { Logger } from '@portcullis/telemetry';
import type { CredentialBackend } from './credential-source.js';
import { FileCredentialSource } from './credentials-file.js';
import { PassthroughCredentialSource } from './credentials-passthrough.js';

/** login.backend: the credential source the config names, or null when AUTH is off. */
export async function createCredentialBackend(config: Config, logger: Logger): Promise<CredentialBackend | null> {
  const a = config.login;
  if (a.source === 'file' && a.file) {
    try {
      return await FileCredentialSource.open({ path: a.file.path, logger, pollIntervalMs: a.file.pollSeconds * 1000 });
    } catch (err) {
      throw new ConfigError(`login.file.path: ${(err as Error).message}`);
    }
  }
  if (a.source === 'passthrough' && a.passthrough) {
    const p = a.passthrough;
    let ca: Buffer | undefined;
    if (p.caFile) {
      try {
        ca = readFileSync(p.caFile);
      } catch (err) {
        throw new ConfigError(`login.passthrough.caFile: cannot read ${p.caFile}: ${(err as NodeJS.ErrnoException).code ?? ''}`);
      }
    }
    const aliases = new Map(Object.entries(p.aliases).map(([u, list]) => [u.toLowerCase(), list]));
    return new PassthroughCredentialSource({
      host: p.host,
      port: p.port,
      tls: p.tls,
      verifyCertificate: p.verifyCertificate,
      ...(ca ? { ca } : {}),
      ...(p.servername ? { servername: p.servername } : {}),
      timeoutMs: p.timeoutMs,
      cacheTtlMs: p.cacheSeconds * 1000,
      maxConcurrent: p.maxConcurrent,
      clientName: config.hostname,
      addressesFor: (user) => [...(user.includes('@') ? [user] : []), ...(aliases.get(user.toLowerCase()) ?? [])],
      logger,
    });
  }
  return null;
}
