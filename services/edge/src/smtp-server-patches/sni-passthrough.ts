/**
 * NOTE (smtp-server patch): smtp-server's _resolveSNI falls back to its default secure context for a
 * name our SNICallback does not know, which makes OpenSSL switch contexts and lose the second key
 * pair (an ECDSA certificate beside an RSA one). We patch so that "no context for this name" keeps
 * the handshake's own context. Drop it when smtp-server passes an undefined context through to
 * Node (not so in 3.21.6); the dual-certificate handshakes of test/e2e/tls-auth.test.ts tell.
 */
import { SMTPServer } from 'smtp-server';
import type { SecureContext } from 'node:tls';

let installed = false;

/**
 * tls.sni: smtp-server answers every SNI look-up with a context, falling back
 * to its default one when ours has none for the name. Switching a handshake to
 * another context, even the default, makes OpenSSL keep only one key pair of
 * it, so an ECDSA certificate beside an RSA one is lost for any client that
 * sends SNI (measured: ECDHE-ECDSA suites then fail with "no shared cipher").
 * With this, "no context for this name" means "stay on the context the
 * handshake started with", which holds every certificate of the primary names.
 */
export function installSniPassthrough(): void {
  if (installed) return;
  installed = true;
  type Cb = (err: Error | null, ctx?: SecureContext) => void;
  const proto = SMTPServer.prototype as unknown as {
    _resolveSNI(this: SMTPServer, servername: string, cb: Cb): void;
  };
  const original = proto._resolveSNI;
  proto._resolveSNI = function (this: SMTPServer, servername: string, cb: Cb) {
    const own = (this.options as { SNICallback?: (name: string, cb: Cb) => void }).SNICallback;
    if (typeof own !== 'function') return original.call(this, servername, cb);
    own(servername, (err, ctx) => cb(err, ctx ?? undefined));
  };
}
