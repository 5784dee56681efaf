import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { RawSmtp } from './raw-smtp.js';

/**
 * SMTP dialogues from a chosen loopback address (127.0.0.0/8 is all ours on Linux), so that
 * per-IP limits, bans and DNSBL listings can be met one client address at a time.
 */

async function connected<S extends Socket>(socket: S, event: 'connect' | 'secureConnect'): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    socket.once(event, resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Opens a plain connection from `from` and reads the first reply (the greeting, or a refusal). */
export async function openFrom(port: number, from = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: string }> {
  const socket = await connected(connect({ port, host: '127.0.0.1', localAddress: from }), 'connect');
  const client = new RawSmtp(socket);
  return { client, greeting: await client.reply() };
}

/** Opens implicit TLS (port 465) from `from` and reads the greeting. */
export async function openTlsFrom(port: number, from = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: string }> {
  const raw = await connected(connect({ port, host: '127.0.0.1', localAddress: from }), 'connect');
  const tls: TLSSocket = await connected(tlsConnect({ socket: raw, rejectUnauthorized: false }), 'secureConnect');
  const client = new RawSmtp(tls);
  return { client, greeting: await client.reply() };
}

/** Sends each command line (CRLF added) and returns the replies, one per command. */
export async function converse(client: RawSmtp, commands: readonly string[]): Promise<string[]> {
  const replies: string[] = [];
  for (const command of commands) replies.push(await client.send(`${command}\r\n`));
  return replies;
}

/** The AUTH PLAIN initial response for a user and password (RFC 4616). */
export function plainAuth(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

/** The last line of a (possibly multi-line) reply as RawSmtp returns it. */
export function lastLine(reply: string): string {
  return reply.slice(reply.lastIndexOf('\n') + 1);
}
