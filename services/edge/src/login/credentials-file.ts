import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '@portcullis/telemetry';
import { plausibleCredentials, Semaphore, type CredentialBackend, type LoginOutcome } from './credential-source.js';
import { normalizeAllowedEntry } from '../mail/sender-identity.js';
import { DEFAULT_SCRYPT, parsePasswordHash, runScrypt, type ParsedHash, type ScryptParams } from './password-hash.js';

export interface FileUser {
  /** As written in the file; this is the `user` of a successful outcome. */
  username: string;
  /** Canonical allowed sender entries ("local@domain" or "@domain"). */
  addresses: string[];
}

interface UserRecord extends FileUser {
  hash: ParsedHash;
}

export interface FileCredentialSourceOptions {
  /** The users file, YAML or JSON (typically a Kubernetes Secret mounted as a directory). */
  path: string;
  logger: Logger;
  /** How often the file is checked for changes; 0 disables polling. Default 5000 ms. */
  pollIntervalMs?: number;
  /** scrypt runs on libuv's thread pool, which fs and dns.lookup share: bound it. Default 2. */
  maxConcurrentHashes?: number;
  /** Longest wait for a hashing slot before answering 'unavailable'. Default 5000 ms. */
  hashQueueTimeoutMs?: number;
}

/** Largest users file we read; anything bigger is refused as a mistake. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Credentials from a users file:
 *
 *   users:
 *     - username: alice@example.test
 *       password: "scrypt$16384$8$1$...$..."
 *       addresses: [alice@example.test, "@sales.example.test"]
 *     - username: scanner
 *       password: "scrypt$..."
 *       addresses: [scanner@example.test]
 *
 * (a bare list of users, or the same in JSON, is accepted too). Usernames are
 * matched case-insensitively and must be unique that way. `addresses`
 * defaults to the username when the username is an address, else to nothing.
 *
 * The file is re-read when it changes (its mtime, size, inode or change time,
 * checked every pollIntervalMs; stat follows the symlinks Kubernetes swaps on
 * Secret updates). A file that cannot be read, parsed or validated keeps the
 * previous users and is logged, without its content.
 */
export class FileCredentialSource implements CredentialBackend {
  private users = new Map<string, UserRecord>();
  private statSig = '';
  private contentSig = '';
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<boolean> | undefined;
  private dummy: ScryptParams = DEFAULT_SCRYPT;
  private readonly hashSlots: Semaphore;
  private readonly hashQueueTimeoutMs: number;
  private lastError = '';

  private constructor(private readonly opts: FileCredentialSourceOptions) {
    this.hashSlots = new Semaphore(opts.maxConcurrentHashes ?? 2, 10_000);
    this.hashQueueTimeoutMs = opts.hashQueueTimeoutMs ?? 5000;
  }

  /** Loads the file (throws if it cannot be used at startup) and starts watching it. */
  static async open(opts: FileCredentialSourceOptions): Promise<FileCredentialSource> {
    const source = new FileCredentialSource(opts);
    await source.load(true);
    const interval = opts.pollIntervalMs ?? 5000;
    if (interval > 0) {
      source.timer = setInterval(() => void source.reload(), interval);
      source.timer.unref();
    }
    return source;
  }

  get size(): number {
    return this.users.size;
  }

  /**
   * Checks the file now and loads it if it changed. Resolves true when a new
   * set of users was loaded. Never rejects (errors are logged).
   */
  reload(): Promise<boolean> {
    if (!this.reloading) {
      this.reloading = this.load(false)
        .catch(() => false)
        .finally(() => {
          this.reloading = undefined;
        });
    }
    return this.reloading;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async verify(username: string, password: string): Promise<LoginOutcome> {
    if (!plausibleCredentials(username, password)) return { ok: false, reason: 'invalid' };
    const release = await this.hashSlots.acquire(this.hashQueueTimeoutMs);
    if (!release) return { ok: false, reason: 'unavailable', detail: 'too many password checks in progress' };
    try {
      const user = this.users.get(username.toLowerCase());
      if (!user) {
        // Same work as for a known user, so that timing does not tell which usernames exist.
        await runScrypt(password, randomBytes(DEFAULT_SCRYPT.saltBytes), DEFAULT_SCRYPT.keyBytes, this.dummy);
        return { ok: false, reason: 'invalid' };
      }
      const key = await runScrypt(password, user.hash.salt, user.hash.key.length, user.hash);
      return timingSafeEqual(key, user.hash.key) ? { ok: true, user: user.username } : { ok: false, reason: 'invalid' };
    } catch (err) {
      return { ok: false, reason: 'unavailable', detail: `scrypt failed: ${(err as Error).message}` };
    } finally {
      release();
    }
  }

  addressesFor(user: string): string[] {
    return [...(this.users.get(user.toLowerCase())?.addresses ?? [])];
  }

  /** The user as loaded (without the hash), for diagnostics. */
  lookup(username: string): FileUser | undefined {
    const u = this.users.get(username.toLowerCase());
    return u ? { username: u.username, addresses: [...u.addresses] } : undefined;
  }

  private async load(initial: boolean): Promise<boolean> {
    const { path, logger } = this.opts;
    let text: string;
    try {
      const st = await stat(path);
      const sig = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (!initial && sig === this.statSig) return false;
      if (st.size > MAX_FILE_BYTES) throw new UsersFileError(`larger than ${MAX_FILE_BYTES} bytes`);
      text = await readFile(path, 'utf8');
      this.statSig = sig;
    } catch (err) {
      const msg = err instanceof UsersFileError ? err.message : `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return this.failed(initial, msg);
    }
    const contentSig = createHash('sha256').update(text).digest('hex');
    if (!initial && contentSig === this.contentSig) return false;
    let users: Map<string, UserRecord>;
    try {
      users = parseUsersFile(text);
    } catch (err) {
      return this.failed(initial, err instanceof UsersFileError ? err.message : 'unexpected error while parsing');
    }
    this.users = users;
    this.contentSig = contentSig;
    this.dummy = commonParams(users);
    this.lastError = '';
    logger.info({ path, users: users.size }, initial ? 'users file loaded' : 'users file reloaded');
    return true;
  }

  private failed(initial: boolean, msg: string): false {
    const { path, logger } = this.opts;
    if (initial) throw new Error(`users file ${path}: ${msg}`);
    // Forget the stat signature so that the next poll tries again even if the
    // file does not change (a half-written file, a transient read error).
    this.statSig = '';
    if (msg !== this.lastError) {
      logger.error({ path, error: msg, users: this.users.size }, 'users file not loaded; keeping the previous users');
      this.lastError = msg;
    }
    return false;
  }
}

class UsersFileError extends Error {}

/** The parameters most hashes in the file use, for the unknown-user dummy run. */
function commonParams(users: Map<string, UserRecord>): ScryptParams {
  const counts = new Map<string, { n: number; p: ScryptParams }>();
  for (const u of users.values()) {
    const k = `${u.hash.N}:${u.hash.r}:${u.hash.p}`;
    const c = counts.get(k) ?? { n: 0, p: { N: u.hash.N, r: u.hash.r, p: u.hash.p } };
    c.n++;
    counts.set(k, c);
  }
  let best: { n: number; p: ScryptParams } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.p ?? DEFAULT_SCRYPT;
}

/**
 * Parses and validates the users file. Error messages name the entry and the
 * field, never a value: the file is a secret, and the YAML parser's own
 * messages quote the offending source line, so they are not passed on.
 */
export function parseUsersFile(text: string): Map<string, UserRecord> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new UsersFileError(`not valid YAML or JSON${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`);
  }
  const list = Array.isArray(doc) ? doc : isObject(doc) ? doc['users'] : undefined;
  if (!Array.isArray(list)) throw new UsersFileError('expected a `users:` list');
  const users = new Map<string, UserRecord>();
  list.forEach((entry: unknown, i) => {
    const where = `users[${i}]`;
    if (!isObject(entry)) throw new UsersFileError(`${where} is not a mapping`);
    for (const key of Object.keys(entry)) {
      if (key !== 'username' && key !== 'password' && key !== 'addresses') throw new UsersFileError(`${where} has an unknown key (${JSON.stringify(key.slice(0, 40))})`);
    }
    const username = entry['username'];
    if (typeof username !== 'string' || username.trim() !== username || !plausibleCredentials(username, 'x')) {
      throw new UsersFileError(`${where}.username is missing or not a plain string`);
    }
    const password = entry['password'];
    if (typeof password !== 'string') throw new UsersFileError(`${where}.password is missing (expected a scrypt$... hash)`);
    const hash = parsePasswordHash(password);
    if (!hash) throw new UsersFileError(`${where}.password is not a usable scrypt$N$r$p$salt$key hash (use portcullis hash-password)`);
    const rawAddresses = entry['addresses'] ?? (normalizeAllowedEntry(username) ? [username] : []);
    if (!Array.isArray(rawAddresses)) throw new UsersFileError(`${where}.addresses must be a list`);
    const addresses: string[] = [];
    rawAddresses.forEach((a: unknown, j) => {
      const norm = typeof a === 'string' ? normalizeAllowedEntry(a) : undefined;
      if (!norm) throw new UsersFileError(`${where}.addresses[${j}] is not an address or @domain`);
      if (!addresses.includes(norm)) addresses.push(norm);
    });
    const key = username.toLowerCase();
    if (users.has(key)) throw new UsersFileError(`${where}.username duplicates an earlier user (usernames are case-insensitive)`);
    users.set(key, { username, addresses, hash });
  });
  return users;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
