import nodemailer, { type Transporter } from 'nodemailer';
import type { DownstreamConfig } from '@portcullis/config';
import { pacedStream } from '@portcullis/contract';

export type RecipientOutcome =
  | { recipient: string; status: 'delivered'; response: string }
  | { recipient: string; status: 'temporary' | 'permanent'; code?: number; response: string; /** Not tried: the destination's circuit is open. */ circuitOpen?: true };

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerError[];
  recipient?: string;
}

const key = (d: DownstreamConfig) => `${d.host}:${d.port}:${d.tls}`;

/**
 * relay.smtp: one pooled nodemailer transport per downstream server, so
 * messages reuse connections instead of paying a handshake each.
 */
export class SmtpDelivery {
  private readonly transports = new Map<string, Transporter>();

  constructor(private readonly opts: { hostname: string; maxConnections: number; timeoutMs: number }) {}

  private transport(d: DownstreamConfig): Transporter {
    let t = this.transports.get(key(d));
    if (!t) {
      t = nodemailer.createTransport({
        pool: true,
        host: d.host,
        port: d.port,
        secure: false,
        name: this.opts.hostname,
        maxConnections: this.opts.maxConnections,
        maxMessages: 100,
        connectionTimeout: this.opts.timeoutMs,
        greetingTimeout: this.opts.timeoutMs,
        socketTimeout: this.opts.timeoutMs * 4,
        ignoreTLS: d.tls === 'none',
        requireTLS: d.tls === 'required' || d.tls === 'verify',
        tls: { rejectUnauthorized: d.tls === 'verify', minVersion: 'TLSv1.2', servername: d.host },
      });
      this.transports.set(key(d), t);
    }
    return t;
  }

  /** Sends one copy to all recipients of one destination; reports per recipient. */
  async send(d: DownstreamConfig, from: string, recipients: string[], raw: Buffer, opts: { eightBit?: boolean } = {}): Promise<RecipientOutcome[]> {
    try {
      // use8BitMime makes nodemailer send BODY=8BITMIME (it never does on its own for a raw message);
      // sendToDestination has checked that the server offers it.
      const envelope = { from, to: recipients, ...(opts.eightBit ? { use8BitMime: true } : {}) };
      // Paced, one chunk per turn of the event loop: nodemailer's dot-stuffing is a JavaScript loop
      // over every octet of what it is given (20-30 ms for a 3 MB buffer in one piece).
      const info = (await this.transport(d).sendMail({ envelope, raw: pacedStream(raw) })) as {
        accepted: string[];
        rejected: string[];
        rejectedErrors?: NodemailerError[];
        response: string;
      };
      const rejected = new Map((info.rejectedErrors ?? []).map((e) => [e.recipient ?? '', e]));
      return recipients.map((r) => {
        const err = rejected.get(r) ?? (info.rejected.includes(r) ? ({ message: 'rejected' } as NodemailerError) : undefined);
        return err ? fromError(r, err) : { recipient: r, status: 'delivered' as const, response: info.response };
      });
    } catch (e) {
      const err = e as NodemailerError;
      if (err.rejectedErrors?.length) {
        const byRcpt = new Map(err.rejectedErrors.map((x) => [x.recipient ?? '', x]));
        return recipients.map((r) => fromError(r, byRcpt.get(r) ?? err));
      }
      return recipients.map((r) => fromError(r, err));
    }
  }

  close(): void {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
  }
}

/** 5xx is permanent; 4xx, timeouts and connection failures are temporary. */
function fromError(recipient: string, err: NodemailerError): RecipientOutcome {
  const code = err.responseCode;
  const response = (err.response ?? err.message ?? 'unknown error').slice(0, 500);
  const status = code !== undefined && code >= 500 && code < 600 ? 'permanent' : 'temporary';
  return code !== undefined ? { recipient, status, code, response } : { recipient, status, response };
}
