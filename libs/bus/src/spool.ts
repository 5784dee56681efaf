import { mkdir, open, readdir, rename, rm, stat, chmod, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** A record as kept by a spool: everything but its position, which names it. */
export interface SpooledRecord {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Epoch ms when it was published. */
  at: number;
}

/** What the in-process bus keeps in memory of a spooled record: its index entry. */
export interface SpoolEntry {
  offset: bigint;
  /** Octets of the value (what loading it will cost). */
  bytes: number;
  at: number;
  /** Epoch ms before which it must not be handled (from the not-before header), else 0. */
  notBefore: number;
}

/**
 * Where the in-process bus keeps the records of a kept topic (quarantine, retry tiers, failed,
 * dead-letter) so that they are not in process memory: files in production, a map in unit tests.
 */
export interface Spool {
  /** Creates the topic's place and returns the entries it already holds (after a restart), oldest first. */
  open(topic: string): Promise<SpoolEntry[]>;
  /** Resolves once the record is durable. */
  write(topic: string, offset: bigint, rec: SpooledRecord): Promise<void>;
  /** The record, or only its key, headers and time (value empty) with headersOnly; null when gone. */
  read(topic: string, offset: bigint, opts?: { headersOnly?: boolean }): Promise<SpooledRecord | null>;
  remove(topic: string, offset: bigint): Promise<void>;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
const FILE = /^(\d{20})\.rec$/;
/** The head line (key, headers, time) is small: our headers are bounded (the reason at 1000 chars). */
const HEAD_READ = 64 * 1024;

function fileName(offset: bigint): string {
  return `${offset.toString().padStart(20, '0')}.rec`;
}

/**
 * One file per record under <dir>/<topic>/: a JSON head line (key, headers, time, not-before),
 * a LF, then the value's octets. Written to a temporary name, fsync'd, renamed and the directory
 * fsync'd, so that a file with the final name is always complete. Directories 0700, files 0600:
 * they hold mail.
 *
 * Hand-written rather than a queue library: what is needed is a handful of fs calls, and the
 * libraries found keep their index or their records in memory, which is what this replaces.
 */
export class FileSpool implements Spool {
  constructor(private readonly dir: string) {}

  private topicDir(topic: string): string {
    if (!TOPIC_NAME.test(topic)) throw new Error(`topic name ${JSON.stringify(topic)} cannot be spooled`);
    return join(this.dir, topic);
  }

  async open(topic: string): Promise<SpoolEntry[]> {
    const dir = this.topicDir(topic);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask and ignored for existing directories.
    await chmod(this.dir, 0o700);
    await chmod(dir, 0o700);
    const entries: SpoolEntry[] = [];
    for (const name of await readdir(dir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(dir, name), { force: true }); // a write cut short by a crash: never acknowledged
        continue;
      }
      const m = FILE.exec(name);
      if (!m) continue;
      const offset = BigInt(m[1]!);
      const size = (await stat(join(dir, name))).size;
      const head = await this.readHead(join(dir, name));
      if (!head) continue;
      entries.push({ offset, bytes: size - head.headBytes, at: head.at, notBefore: head.notBefore });
    }
    return entries.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  }

  async write(topic: string, offset: bigint, rec: SpooledRecord): Promise<void> {
    const dir = this.topicDir(topic);
    const final = join(dir, fileName(offset));
    const tmp = `${final}.tmp`;
    const notBefore = Number(rec.headers['portcullis-not-before']) || 0;
    const head = Buffer.from(`${JSON.stringify({ key: rec.key, headers: rec.headers, at: rec.at, notBefore })}\n`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writev([head, rec.value]);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    await syncDir(dir);
  }

  async read(topic: string, offset: bigint, opts: { headersOnly?: boolean } = {}): Promise<SpooledRecord | null> {
    const path = join(this.topicDir(topic), fileName(offset));
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const whole = opts.headersOnly ? null : await fh.readFile();
      const start = whole ?? (await readStart(fh));
      const nl = start.indexOf(0x0a);
      if (nl < 0) throw new Error(`spool file ${path} has no head line`);
      const head = JSON.parse(start.subarray(0, nl).toString('utf8')) as { key: string | null; headers: Record<string, string>; at: number };
      return { key: head.key, headers: head.headers, at: head.at, value: whole ? whole.subarray(nl + 1) : Buffer.alloc(0) };
    } finally {
      await fh.close();
    }
  }

  async remove(topic: string, offset: bigint): Promise<void> {
    await rm(join(this.topicDir(topic), fileName(offset)), { force: true });
  }

  private async readHead(path: string): Promise<{ headBytes: number; at: number; notBefore: number } | null> {
    const fh = await open(path, 'r');
    try {
      const start = await readStart(fh);
      const nl = start.indexOf(0x0a);
      if (nl < 0) return null;
      const head = JSON.parse(start.subarray(0, nl).toString('utf8')) as { at: number; notBefore?: number };
      return { headBytes: nl + 1, at: head.at, notBefore: head.notBefore ?? 0 };
    } finally {
      await fh.close();
    }
  }
}

async function readStart(fh: FileHandle): Promise<Buffer> {
  const buf = Buffer.alloc(HEAD_READ);
  const { bytesRead } = await fh.read(buf, 0, HEAD_READ, 0);
  return buf.subarray(0, bytesRead);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The spool of a bus made without a directory (unit tests): the same bookkeeping, records in a
 * map. Production (createBus) always gives the in-process bus a directory.
 */
export class MemorySpool implements Spool {
  private readonly topics = new Map<string, Map<bigint, SpooledRecord>>();

  async open(topic: string): Promise<SpoolEntry[]> {
    if (!this.topics.has(topic)) this.topics.set(topic, new Map());
    return [];
  }

  async write(topic: string, offset: bigint, rec: SpooledRecord): Promise<void> {
    this.topics.get(topic)!.set(offset, { ...rec, headers: { ...rec.headers } });
  }

  async read(topic: string, offset: bigint, opts: { headersOnly?: boolean } = {}): Promise<SpooledRecord | null> {
    const rec = this.topics.get(topic)?.get(offset);
    if (!rec) return null;
    return { ...rec, headers: { ...rec.headers }, value: opts.headersOnly ? Buffer.alloc(0) : rec.value };
  }

  async remove(topic: string, offset: bigint): Promise<void> {
    this.topics.get(topic)?.delete(offset);
  }
}
