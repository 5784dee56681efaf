import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes: scrypt (RFC 7914) via node:crypto, written as
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>
 * e.g. scrypt$16384$8$1$7s0x...==$Qm9i...= (16-byte salt, 32-byte key).
 */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface ParsedHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses and bounds-checks a hash string; undefined if it is not one we accept. */
export function parsePasswordHash(hash: string): ParsedHash | undefined {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  if (!/^\d{1,8}$/.test(n) || !/^\d{1,3}$/.test(r) || !/^\d{1,3}$/.test(p)) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  // N a power of two between 2^10 and 2^20; r*p bounded so that one check stays
  // well under a second and under 256 MiB.
  if (params.N < 1024 || params.N > 1 << 20 || (params.N & (params.N - 1)) !== 0) return undefined;
  if (params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return undefined;
  if (128 * params.N * params.r > 256 * 1024 * 1024) return undefined;
  if (!B64.test(salt) || !B64.test(key)) return undefined;
  const saltBuf = Buffer.from(salt, 'base64');
  const keyBuf = Buffer.from(key, 'base64');
  if (saltBuf.length < 8 || saltBuf.length > 64 || keyBuf.length < 16 || keyBuf.length > 64) return undefined;
  return { ...params, salt: saltBuf, key: keyBuf };
}

function scryptOptions(p: ScryptParams): ScryptOptions {
  // scrypt needs about 128*N*r bytes (plus 128*r*p); maxmem defaults to 32 MiB,
  // so set it from the parameters with some headroom.
  return { N: p.N, r: p.r, p: p.p, maxmem: 128 * p.N * p.r * 2 + 128 * p.r * p.p + 1024 * 1024 };
}

export function runScrypt(password: string, salt: Buffer, keyLen: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, scryptOptions(params), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A new hash string for `password`, with a random salt (the CLI's `portcullis hash-password`). */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (password.length === 0) throw new Error('refusing to hash an empty password');
  const salt = randomBytes(DEFAULT_SCRYPT.saltBytes);
  const key = await runScrypt(password, salt, DEFAULT_SCRYPT.keyBytes, params);
  const out = `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
  if (!parsePasswordHash(out)) throw new Error('scrypt parameters out of the accepted range');
  return out;
}

/** Constant-time check of `password` against a hash string; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  if (!parsed) return false;
  const key = await runScrypt(password, parsed.salt, parsed.key.length, parsed);
  return timingSafeEqual(key, parsed.key);
}
