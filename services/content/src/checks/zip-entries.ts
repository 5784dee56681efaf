import yauzl from 'yauzl';

export interface ZipEntryInfo {
  name: string;
  encrypted: boolean;
  size: number;
  /** The first bytes of the entry (enough for magic bytes), empty for encrypted or skipped entries. */
  head: Buffer;
}

export interface ZipListing {
  entries: ZipEntryInfo[];
  /** More entries than maxEntries: the rest were not looked at. */
  truncated: boolean;
}

const HEAD_BYTES = 4100; // what file-type needs

/** The entries of a zip held in memory (yauzl), at most maxEntries, each with its first bytes. */
export function listZip(content: Buffer, maxEntries: number): Promise<ZipListing> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(content, { lazyEntries: true, validateEntrySizes: false }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('unreadable zip'));
      const entries: ZipEntryInfo[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve({ entries, truncated: false }));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entries.length >= maxEntries) {
          zip.close();
          return resolve({ entries, truncated: true });
        }
        const info: ZipEntryInfo = { name: entry.fileName, encrypted: entry.isEncrypted(), size: entry.uncompressedSize, head: Buffer.alloc(0) };
        entries.push(info);
        if (info.encrypted || entry.fileName.endsWith('/')) return zip.readEntry();
        readHead(zip, entry).then((head) => {
          info.head = head;
          zip.readEntry();
        }, reject);
      });
      zip.readEntry();
    });
  });
}

function readHead(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return resolve(Buffer.alloc(0));
      const chunks: Buffer[] = [];
      let got = 0;
      const done = (): void => {
        stream.removeAllListeners('data');
        stream.destroy();
        resolve(Buffer.concat(chunks).subarray(0, HEAD_BYTES));
      };
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (got >= HEAD_BYTES) done();
      });
      stream.on('end', done);
      stream.on('error', () => resolve(Buffer.concat(chunks)));
    });
  });
}
