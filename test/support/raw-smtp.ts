import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';

/**
 * A bare SMTP client over a socket, for what a well-behaved library refuses
 * to send (bare LF, smuggling attempts). Each step writes bytes and reads one
 * complete reply (multi-line replies joined by \n).
 */
export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<{ client: RawSmtp; greeting: string }> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    return { client, greeting: await client.reply() };
  }

  /** Reads one reply: lines until one whose fourth character is a space. */
  async reply(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[1]!.length);
        return m[1]!.trimEnd().replace(/\r\n/g, '\n');
      }
      if (this.socket.destroyed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Bytes received and not yet read as a reply. */
  get unread(): string {
    return this.buffer;
  }

  /** Upgrades the connection after "220 Ready to start TLS"; the old reader is left behind. */
  async startTls(options: ConnectionOptions = {}): Promise<RawSmtp> {
    this.socket.removeAllListeners('data');
    const tls = tlsConnect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    return new RawSmtp(tls);
  }

  /** Opens implicit TLS (port 465) and reads the greeting. */
  static async openTls(port: number, options: ConnectionOptions = {}): Promise<{ client: RawSmtp; greeting: string; tls: TLSSocket }> {
    const tls = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    const client = new RawSmtp(tls);
    return { client, greeting: await client.reply(), tls };
  }

  async send(bytes: string | Buffer): Promise<string> {
    this.socket.write(bytes);
    return this.reply();
  }

  close(): void {
    this.socket.end();
  }
}

/** EHLO, MAIL, RCPT, DATA, then the given message bytes (which must end the DATA themselves). */
export async function sendRawData(port: number, data: string | Buffer, rcpt = 'postmaster@example.test'): Promise<string> {
  const { client } = await RawSmtp.open(port);
  try {
    await client.send('EHLO client.test\r\n');
    await client.send('MAIL FROM:<sender@sender.test>\r\n');
    const rcptReply = await client.send(`RCPT TO:<${rcpt}>\r\n`);
    if (!rcptReply.startsWith('250')) return rcptReply;
    const go = await client.send('DATA\r\n');
    if (!go.startsWith('354')) return go;
    return await client.send(data);
  } finally {
    client.close();
  }
}
