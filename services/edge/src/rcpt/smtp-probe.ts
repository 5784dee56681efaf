import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A minimal SMTP client that asks the mailbox server whether a recipient
 * exists: EHLO, (STARTTLS), MAIL FROM:<>, RCPT TO, QUIT — never DATA. Written
 * here because nodemailer's client only sends whole messages (MAIL, RCPT and
 * DATA in one call) and has no public way to stop after RCPT.
 */
export interface ProbeTarget {
  host: string;
  port: number;
  tls: 'none' | 'opportunistic' | 'required' | 'verify';
}

export interface ProbeReply {
  code: number;
  text: string;
}

class ReplyReader {
  private buf = '';
  private wake: (() => void) | null = null;
  private closed: Error | null = null;

  constructor(private socket: Socket) {
    this.attach(socket);
  }

  attach(socket: Socket): void {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      if (this.buf.length > 64 * 1024) this.fail(new Error('reply too long'));
      this.wake?.();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  detach(): void {
    this.socket.removeAllListeners('data').removeAllListeners('error').removeAllListeners('close');
  }

  private fail(e: Error): void {
    this.closed ??= e;
    this.wake?.();
  }

  async read(): Promise<ProbeReply> {
    for (;;) {
      const m = /^((?:\d{3}-[^\r\n]*\r\n)*(\d{3})(?: [^\r\n]*)?\r\n)/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[1]!.length);
        return { code: Number(m[2]), text: m[1]!.trimEnd() };
      }
      if (this.closed) throw this.closed;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }

  async command(line: string): Promise<ProbeReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }
}

/** Probes one recipient; resolves with the reply to RCPT, rejects on any failure before it (or timeout). */
export async function probeRecipient(target: ProbeTarget, recipient: string, opts: { helo: string; timeoutMs: number }): Promise<ProbeReply> {
  let socket: Socket = netConnect(target.port, target.host);
  const timer = setTimeout(() => socket.destroy(new Error(`probe timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const reader = new ReplyReader(socket);
    expect(await reader.read(), 2, 'greeting');
    let ehlo = expect(await reader.command(`EHLO ${opts.helo}`), 2, 'EHLO');
    if (target.tls !== 'none' && (/STARTTLS/i.test(ehlo.text) || target.tls !== 'opportunistic')) {
      expect(await reader.command('STARTTLS'), 2, 'STARTTLS');
      reader.detach();
      const secure = tlsConnect({ socket, servername: target.host, rejectUnauthorized: target.tls === 'verify', minVersion: 'TLSv1.2' });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      socket = secure;
      reader.attach(secure);
      ehlo = expect(await reader.command(`EHLO ${opts.helo}`), 2, 'EHLO');
    }
    void ehlo;
    expect(await reader.command('MAIL FROM:<>'), 2, 'MAIL FROM');
    const rcpt = await reader.command(`RCPT TO:<${recipient}>`);
    socket.write('QUIT\r\n');
    return rcpt;
  } finally {
    clearTimeout(timer);
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function expect(reply: ProbeReply, klass: number, what: string): ProbeReply {
  if (Math.floor(reply.code / 100) !== klass) throw new Error(`${what}: ${reply.text.slice(0, 200)}`);
  return reply;
}
