import { constants } from 'node:crypto';

/**
 * tls.policy: TLS 1.2 and 1.3 only. For 1.2, only ECDHE key exchange (forward
 * secrecy) with AEAD ciphers, in our order; TLS 1.3 suites are all AEAD and
 * forward-secret already. Clients may not renegotiate (a cheap DoS and the
 * root of old attacks). This is what Mozilla's "intermediate" profile allows,
 * minus the DHE suites (slow, and clients that need them are long gone).
 */
export const TLS_POLICY = {
  minVersion: 'TLSv1.2' as const,
  maxVersion: 'TLSv1.3' as const,
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  ecdhCurve: 'X25519:prime256v1:secp384r1',
};
