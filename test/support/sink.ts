import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/**
 * A real SMTP server on loopback playing the organisation's mailbox server.
 * It keeps every message it accepted, byte for byte as received after DATA.
 */
export class MailboxSink {
  readonly messages: SunkMessage[] = [];
  private server: SMTPServer;
  port = 0;

  /** When set, RCPT for any other address gets 550 5.1.1, as a real mailbox server does. */
  constructor(readonly known?: Set<string>) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      size: 64 * 1024 * 1024,
      onRcptTo: (addr, _session, cb) => {
        if (!this.known || this.known.has(addr.address.toLowerCase())) return cb();
        cb(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          this.messages.push({
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          });
          cb();
        });
      },
    });
  }

  async start(): Promise<number> {
    // A relay killed mid-session resets its connections; that is expected here, not a failure.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    const addr = this.server.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Messages whose Received header names the given Portcullis message id. */
  find(messageId: string): SunkMessage[] {
    const needle = Buffer.from(` id ${messageId}`);
    return this.messages.filter((m) => m.raw.subarray(0, 2048).includes(needle));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
