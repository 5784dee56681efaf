import nodemailer from 'nodemailer';

export interface SendResult {
  ok: boolean;
  code: number;
  response: string;
  /** The Portcullis message id quoted in the reply, when there is one. */
  messageId: string | null;
  ms: number;
}

const ID = /\b([0-9A-HJKMNP-TV-Z]{26})\b/;

/** Sends raw octets with nodemailer (a real SMTP client) and reports the final reply. */
export async function sendRaw(port: number, raw: Buffer, envelope = { from: 'sender@sender.test', to: ['postmaster@example.test'] }): Promise<SendResult> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, socketTimeout: 120_000 });
  const start = performance.now();
  try {
    const info = await t.sendMail({ envelope, raw });
    return { ok: true, code: 250, response: info.response, messageId: ID.exec(info.response)?.[1] ?? null, ms: performance.now() - start };
  } catch (err) {
    const e = err as Error & { responseCode?: number; response?: string };
    const response = e.response ?? e.message;
    return { ok: false, code: e.responseCode ?? 0, response, messageId: ID.exec(response)?.[1] ?? null, ms: performance.now() - start };
  } finally {
    t.close();
  }
}

/** A plain RFC 5322 message with CRLF line endings and a unique subject. */
export function makeMessage(subject: string, bodyLines: string[] = ['Hello from the Portcullis tests.']): Buffer {
  const lines = [
    'From: Sender <sender@sender.test>',
    'To: Postmaster <postmaster@example.test>',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/[^A-Za-z0-9]/g, '')}@sender.test>`,
    'Date: Sat, 28 Nov 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    ...bodyLines,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

/** A message of about `bytes` octets: base64 lines of random data, like a big attachment. */
export function makeLargeMessage(subject: string, bytes: number): Buffer {
  const head = makeMessage(subject, []);
  const lineCount = Math.ceil(bytes / 78);
  const random = Buffer.alloc(57 * 1024);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  const lines: string[] = [];
  for (let i = 0; i < lineCount; i++) {
    const off = (i * 57) % (random.length - 57);
    lines.push(random.subarray(off, off + 57).toString('base64'));
  }
  return Buffer.concat([head, Buffer.from(lines.join('\r\n') + '\r\n')]);
}
