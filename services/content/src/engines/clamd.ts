import { connect, type Socket } from 'node:net';
import { SlotPool } from './slots.js';

/** clamd refused the stream as longer than its StreamMaxLength. */
export class ClamdSizeLimitError extends Error {
  constructor() {
    super("message longer than clamd's StreamMaxLength");
  }
}

export type ClamdAnswer = { kind: 'clean' } | { kind: 'infected'; signature: string };

export interface ClamdOptions {
  /** tcp://host:port or unix:/path */
  address: string;
  timeoutMs: number;
  poolSize: number;
}

const CHUNK = 64 * 1024;

/**
 * clamd's INSTREAM protocol, written here rather than taken from npm: the protocol is
 * a few framed writes, and we need every way it can end (refused, reset, timed out, clamd's
 * own "size limit exceeded", an unparsable answer) to surface as an error for the failure
 * policy; the npm clients (clamscan, clamdjs) wrap it in file-scanning APIs and report some
 * of these as a clean result or a hang.
 */
export class ClamdClient {
  private readonly slots: SlotPool;

  constructor(readonly options: ClamdOptions) {
    this.slots = new SlotPool(options.poolSize);
  }

  scan(data: Buffer): Promise<ClamdAnswer> {
    const started = Date.now();
    return this.slots.run(this.options.timeoutMs, () => this.instream(data, this.options.timeoutMs - (Date.now() - started)));
  }

  ping(): Promise<boolean> {
    return this.command('zPING\0', 2000).then(
      (a) => a === 'PONG',
      () => false,
    );
  }

  private instream(data: Buffer, timeoutMs: number): Promise<ClamdAnswer> {
    return this.exchange(timeoutMs, (socket) => {
      socket.write('zINSTREAM\0');
      for (let at = 0; at < data.length; at += CHUNK) {
        const piece = data.subarray(at, Math.min(at + CHUNK, data.length));
        const size = Buffer.alloc(4);
        size.writeUInt32BE(piece.length);
        socket.write(size);
        socket.write(piece);
      }
      socket.write(Buffer.alloc(4)); // zero length: end of stream
    }).then(parseAnswer);
  }

  private command(cmd: string, timeoutMs: number): Promise<string> {
    return this.exchange(timeoutMs, (socket) => socket.write(cmd));
  }

  /** One connection, one command, one NUL-terminated answer. */
  private exchange(timeoutMs: number, send: (socket: Socket) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = openSocket(this.options.address);
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (err: Error | null, answer?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => finish(new Error(`clamd did not answer within ${timeoutMs} ms`)), Math.max(1, timeoutMs));
      socket.on('connect', () => send(socket));
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        const end = all.indexOf(0);
        if (end >= 0) finish(null, all.subarray(0, end).toString('utf8').trim());
      });
      socket.on('error', (e) => finish(new Error(`clamd: ${e.message}`)));
      socket.on('close', () => finish(new Error('clamd closed the connection without an answer')));
    });
  }
}

function openSocket(address: string): Socket {
  if (address.startsWith('unix:')) return connect({ path: address.slice('unix:'.length) });
  const { hostname, port } = new URL(address);
  return connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
}

/** "stream: OK", "stream: Eicar-Signature FOUND", or an error such as "INSTREAM size limit exceeded. ERROR". */
export function parseAnswer(answer: string): ClamdAnswer {
  const body = answer.replace(/^stream:\s*/, '');
  if (body === 'OK') return { kind: 'clean' };
  const found = /^(.+) FOUND$/.exec(body);
  if (found) return { kind: 'infected', signature: found[1]!.trim() };
  if (/size limit exceeded/i.test(body)) throw new ClamdSizeLimitError();
  // Not /\s*ERROR$/: unanchored at the start, it would be retried at every position of a run of spaces.
  const detail = body.endsWith('ERROR') ? body.slice(0, -'ERROR'.length).trimEnd() : body;
  throw new Error(`clamd: ${detail || 'empty answer'}`);
}
