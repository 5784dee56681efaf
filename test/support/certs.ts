import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A real certificate made with openssl for the given names: ECDSA P-256 by
 * default, or RSA. Files are written as cert-manager does (tls.crt, tls.key).
 */
export function makeCertificate(dir: string, names: string[], kind: 'ec' | 'rsa' = 'ec', prefix = 'tls'): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${prefix}.crt`);
  const keyFile = join(dir, `${prefix}.key`);
  const keyArgs = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-days',
      '30',
      '-sha256',
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
