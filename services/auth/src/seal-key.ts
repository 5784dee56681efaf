import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';

export interface SealKey {
  domain: string;
  selector: string;
  /** PEM; never logged. */
  privateKey: string;
}

/** Reads the ARC sealing key once at start; a missing or unusable key stops the service with the reason. */
export function loadSealKey(conf: { domain: string; selector: string; privateKeyFile: string } | undefined): SealKey | undefined {
  if (!conf) return undefined;
  let pem: string;
  try {
    pem = readFileSync(conf.privateKeyFile, 'utf8');
  } catch (err) {
    throw new Error(`authentication.arc.seal.privateKeyFile: cannot read ${conf.privateKeyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const type = createPrivateKey(pem).asymmetricKeyType;
    if (type !== 'rsa' && type !== 'ed25519') throw new Error(`key type ${type}`);
  } catch (err) {
    throw new Error(`authentication.arc.seal.privateKeyFile: ${conf.privateKeyFile} is not an RSA or Ed25519 private key (${(err as Error).message})`);
  }
  return { domain: conf.domain, selector: conf.selector, privateKey: pem };
}
