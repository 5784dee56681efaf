import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import packet from 'dns-packet';
import type { DnsServer } from './servers.js';

/** Why one exchange with one server produced no response. */
export class ExchangeError extends Error {
  constructor(
    readonly kind: 'timeout' | 'aborted' | 'network' | 'formerr',
    detail: string,
  ) {
    super(detail);
  }
}

export interface Exchange {
  server: DnsServer;
  name: string;
  type: packet.RecordType;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** EDNS0 payload size that avoids fragmentation (DNS flag day 2020). */
const UDP_PAYLOAD = 1232;

/**
 * Whether a name can be asked on the wire (RFC 1035 2.3.4): labels of 1 to 63 octets, 255 octets in
 * all with their length octets. dns-packet checks neither: it writes a label's length into one octet
 * as it is, so a 300-character label from a link in a message became a wrong length (or a
 * compression pointer) and a malformed or different question.
 */
export function isWireName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0) return true; // the root
  if (n.length > 253) return false;
  let octets = 1;
  for (const label of n.split('.')) {
    const len = Buffer.byteLength(label, 'utf8');
    if (len === 0 || len > 63) return false;
    octets += len + 1;
  }
  return octets <= 255;
}

function encodeQuery(name: string, type: packet.RecordType): { id: number; buf: Buffer } {
  const id = randomInt(0, 65536);
  const buf = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD } as packet.Answer],
  });
  return { id, buf };
}

/** A response answers our query only with our id and our question (anything else is ignored: spoofing, strays). */
function matches(res: packet.Packet, id: number, name: string, type: string): boolean {
  const q = res.questions?.[0];
  return res.type === 'response' && res.id === id && !!q && q.type === type && q.name.toLowerCase() === name.toLowerCase();
}

/**
 * Runs `body` with a timer and the caller's signal; either ends it with an ExchangeError.
 * body gets a `done` to settle and returns its cleanup.
 */
function bounded<T>(ex: Exchange, body: (done: (err: Error | null, v?: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (ex.signal?.aborted) return reject(new ExchangeError('aborted', 'deadline passed'));
    let settled = false;
    let cleanup = () => {};
    const finish = (err: Error | null, v?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ex.signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (err) reject(err);
      else resolve(v as T);
    };
    const onAbort = () => finish(new ExchangeError('aborted', 'deadline passed'));
    const timer = setTimeout(() => finish(new ExchangeError('timeout', `no answer from ${ex.server.host}:${ex.server.port} in ${ex.timeoutMs} ms`)), ex.timeoutMs);
    ex.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = body(finish);
  });
}

export function exchangeUdp(ex: Exchange): Promise<packet.Packet> {
  const { id, buf } = encodeQuery(ex.name, ex.type);
  return bounded<packet.Packet>(ex, (done) => {
    const socket = dgram.createSocket(net.isIPv6(ex.server.host) ? 'udp6' : 'udp4');
    socket.on('error', (err) => done(new ExchangeError('network', err.message)));
    socket.on('message', (msg) => {
      let res: packet.Packet;
      try {
        res = packet.decode(msg);
      } catch {
        return; // not a DNS message: keep waiting for ours
      }
      if (matches(res, id, ex.name, ex.type)) done(null, res);
    });
    socket.send(buf, ex.server.port, ex.server.host, (err) => err && done(new ExchangeError('network', err.message)));
    return () => socket.close();
  });
}

export function exchangeTcp(ex: Exchange): Promise<packet.Packet> {
  const { id, buf } = encodeQuery(ex.name, ex.type);
  return bounded<packet.Packet>(ex, (done) => {
    const socket = net.connect({ host: ex.server.host, port: ex.server.port });
    let acc = Buffer.alloc(0);
    socket.on('error', (err) => done(new ExchangeError('network', err.message)));
    socket.on('close', () => done(new ExchangeError('network', `${ex.server.host}:${ex.server.port} closed the TCP connection`)));
    socket.on('connect', () => {
      const framed = Buffer.alloc(2 + buf.length); // RFC 1035 4.2.2: two-octet length prefix
      framed.writeUInt16BE(buf.length, 0);
      buf.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk) => {
      acc = Buffer.concat([acc, chunk]);
      if (acc.length < 2) return;
      const len = acc.readUInt16BE(0);
      if (acc.length < 2 + len) return;
      try {
        const res = packet.decode(acc.subarray(2, 2 + len));
        done(matches(res, id, ex.name, ex.type) ? null : new ExchangeError('formerr', 'TCP answer does not match the query'), res);
      } catch (err) {
        done(new ExchangeError('formerr', (err as Error).message));
      }
    });
    return () => socket.destroy();
  });
}

/** UDP first; a truncated answer (TC) is asked again over TCP (RFC 7766). */
export async function exchange(ex: Exchange, sent: (transport: 'udp' | 'tcp') => void = () => {}): Promise<packet.Packet> {
  sent('udp');
  const res = await exchangeUdp(ex);
  if (((res.flags ?? 0) & packet.TRUNCATED_RESPONSE) === 0) return res;
  sent('tcp');
  return exchangeTcp(ex);
}
