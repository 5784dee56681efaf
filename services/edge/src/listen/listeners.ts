import type { SMTPServerOptions } from 'smtp-server';
import type { Config } from '@portcullis/config';
import type { Envelope } from '@portcullis/contract';
import { TLS_POLICY } from './tls-policy.js';
import type { CertificateStore } from './certificates.js';

export type ListenerKind = Envelope['listener'];

/**
 * listener.options: what each port offers. MX (25): STARTTLS when we have a
 * certificate, never AUTH (submission has its own ports). Submission (587):
 * STARTTLS then AUTH, nothing without AUTH. Submissions (465): TLS from the
 * first byte, then AUTH. AUTH is offered only inside TLS (allowInsecureAuth is
 * off): PLAIN and LOGIN only, since CRAM-MD5 and DIGEST-MD5 need passwords
 * stored in clear on our side.
 */
export function listenerOptions(kind: ListenerKind, config: Config, certs: CertificateStore | null): Partial<SMTPServerOptions> {
  const tls: Partial<SMTPServerOptions> = certs
    ? {
        ...TLS_POLICY,
        ...certs.defaultPair(),
        SNICallback: (servername: string, cb: (err: Error | null, ctx?: import('node:tls').SecureContext) => void) => cb(null, certs.resolve(servername)),
      }
    : {};
  switch (kind) {
    case 'mx':
      return { ...tls, secure: false, authOptional: true, disabledCommands: certs ? ['AUTH'] : ['AUTH', 'STARTTLS'] };
    case 'submission':
      return { ...tls, secure: false, authOptional: false, allowInsecureAuth: false, authMethods: ['PLAIN', 'LOGIN'], disabledCommands: [] };
    case 'submissions':
      return { ...tls, secure: true, authOptional: false, allowInsecureAuth: false, authMethods: ['PLAIN', 'LOGIN'], disabledCommands: ['STARTTLS'] };
  }
}
