/**
 * HAProxy PROXY protocol, versions 1 (text) and 2 (binary), receiving side.
 *
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 *
 * A load balancer in front of the edge (HAProxy, AWS NLB, ...) writes one header at the very start of
 * the TCP connection that names the real client. This module reads exactly that header from a socket,
 * validates it strictly and leaves every byte after it in the socket for the SMTP server. It also
 * decides which peers may send such a header at all (CIDR matching): the header is not authenticated,
 * so accepting it from anyone would let any client claim any address.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { normalizeIp, parseCidr } from '@portcullis/networks';
import { crc32c } from './crc32c.js';

// Parsing and normalising addresses is shared (libs/networks); exported here too for the edge's callers.
export { normalizeIp, parseCidr };

/** Longest v1 line the spec allows, CRLF included ("PROXY UNKNOWN <v6> <v6> 65535 65535\r\n"). */
export const V1_MAX_LENGTH = 107;
/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE: Buffer = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Fixed part of a v2 header: signature, version/command, family/protocol, length. */
export const V2_FIXED_LENGTH = 16;
/** Default bound on the v2 address block plus TLVs (the spec allows up to 65535 bytes). */
export const DEFAULT_MAX_V2_PAYLOAD_BYTES = 1024;
/** v2 TLV type of the CRC32c checksum of the whole header. */
export const PP2_TYPE_CRC32C = 0x03;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;

export interface ProxyTlv {
  type: number;
  value: Buffer;
}

export type ProxyResult =
  | {
      kind: 'proxied';
      version: 1 | 2;
      /** Real client address; IPv4-mapped IPv6 is given as plain IPv4, IPv6 in RFC 5952 form. */
      sourceAddress: string;
      sourcePort: number;
      /** The address the client connected to (the load balancer's listener). */
      destAddress: string;
      destPort: number;
      /** v2 TLVs, in order (empty for v1). Structure is validated, contents are not interpreted. */
      tlvs: ProxyTlv[];
    }
  /** v2 LOCAL (a health check by the proxy itself), v2 PROXY with AF_UNSPEC, or v1 UNKNOWN: use the socket's own addresses. */
  | { kind: 'local'; version: 1 | 2 }
  /**
   * No valid header. `missing` is true when the peer sent nothing that looks like a PROXY header
   * (nothing at all before the deadline or the close, or other bytes such as an SMTP command), false
   * when it started a header that is malformed, truncated or too long.
   */
  | { kind: 'invalid'; reason: string; missing: boolean };

export interface ParsedHeader {
  result: ProxyResult;
  /** Header length in bytes (0 for an invalid result). */
  length: number;
}

export interface ProxyParseOptions {
  /** Largest v2 address block + TLVs accepted; bigger headers are refused before they are read. */
  maxV2PayloadBytes?: number;
}

export interface ReadProxyHeaderOptions extends ProxyParseOptions {
  /** Deadline for the whole header, from the call (not an idle timeout: a slow drip does not extend it). */
  timeoutMs: number;
}

const invalid = (reason: string, missing = false): ParsedHeader => ({ result: { kind: 'invalid', reason, missing }, length: 0 });

/**
 * Parses a PROXY header at the start of `buf`.
 *
 * Returns null while more bytes are needed to decide, otherwise the result and how many bytes the
 * header occupies (everything after that belongs to the proxied protocol). Bytes that cannot start a
 * valid header are refused as soon as they are seen, without waiting for more.
 */
export function parseProxyHeader(buf: Buffer, opts: ProxyParseOptions = {}): ParsedHeader | null {
  if (buf.length === 0) return null;
  if (startsLike(buf, V2_SIGNATURE)) {
    return buf.length < V2_FIXED_LENGTH ? null : parseV2(buf, opts.maxV2PayloadBytes ?? DEFAULT_MAX_V2_PAYLOAD_BYTES);
  }
  if (startsLike(buf, V1_PREFIX)) {
    return buf.length < V1_PREFIX.length ? null : parseV1(buf);
  }
  return invalid('not a PROXY protocol header', true);
}

/** True if buf and prefix agree on their common length. */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

// ---------------------------------------------------------------------------------------------- v1

const V1_PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function parseV1(buf: Buffer): ParsedHeader | null {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const c = buf[i]!;
    if (c === LF) {
      if (i === 0 || buf[i - 1] !== CR) return invalid('v1 header line ends with a bare LF');
      end = i + 1;
      break;
    }
    if (c === CR) {
      if (i + 1 < buf.length && buf[i + 1] !== LF) return invalid('v1 header line contains a bare CR');
      continue;
    }
    if (c < 0x20 || c > 0x7e) return invalid('v1 header line contains a non-printable byte');
  }
  if (end < 0) {
    return buf.length >= V1_MAX_LENGTH ? invalid(`v1 header line has no CRLF within ${V1_MAX_LENGTH} bytes`) : null;
  }
  const line = buf.toString('latin1', 0, end - 2);
  const parts = line.split(' ');
  const proto = parts[1];
  if (proto === 'UNKNOWN') {
    // "the receiver must ignore anything presented before the CRLF is found"
    return { result: { kind: 'local', version: 1 }, length: end };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return invalid(`v1 header has unknown protocol ${JSON.stringify(proto ?? '')}`);
  if (parts.length !== 6) return invalid('v1 header does not have exactly five fields after PROXY');
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : 6;
  const srcAddress = v1Address(src, family);
  const dstAddress = v1Address(dst, family);
  if (srcAddress === null) return invalid(`v1 header has an invalid ${proto} source address`);
  if (dstAddress === null) return invalid(`v1 header has an invalid ${proto} destination address`);
  const srcPort = v1Port(sport);
  const dstPort = v1Port(dport);
  if (srcPort === null) return invalid('v1 header has an invalid source port');
  if (dstPort === null) return invalid('v1 header has an invalid destination port');
  return {
    result: { kind: 'proxied', version: 1, sourceAddress: srcAddress, sourcePort: srcPort, destAddress: dstAddress, destPort: dstPort, tlvs: [] },
    length: end,
  };
}

function v1Address(text: string, family: 4 | 6): string | null {
  // net.isIPv4 refuses leading zeros (octal confusion) and short forms; net.isIPv6 would take a zone id
  if (family === 4) return net.isIPv4(text) ? text : null;
  if (text.includes('%') || !net.isIPv6(text)) return null;
  return normalizeIp(text);
}

function v1Port(text: string): number | null {
  if (!V1_PORT.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

// ---------------------------------------------------------------------------------------------- v2

const FAM_UNSPEC = 0x0;
const FAM_INET = 0x1;
const FAM_INET6 = 0x2;
const FAM_UNIX = 0x3;
const PROTO_UNSPEC = 0x0;
const PROTO_STREAM = 0x1;
const PROTO_DGRAM = 0x2;
const CMD_LOCAL = 0x0;
const CMD_PROXY = 0x1;

function parseV2(buf: Buffer, maxPayload: number): ParsedHeader | null {
  const verCmd = buf[12]!;
  const famProto = buf[13]!;
  const payloadLength = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return invalid(`v2 header has version ${verCmd >> 4}`);
  const command = verCmd & 0x0f;
  if (command !== CMD_LOCAL && command !== CMD_PROXY) return invalid(`v2 header has unknown command ${command}`);
  const family = famProto >> 4;
  const proto = famProto & 0x0f;
  if (family > FAM_UNIX) return invalid(`v2 header has unknown address family ${family}`);
  if (proto > PROTO_DGRAM) return invalid(`v2 header has unknown transport protocol ${proto}`);
  if (payloadLength > maxPayload) return invalid(`v2 header announces ${payloadLength} bytes of addresses and TLVs, more than the ${maxPayload} accepted`);
  const length = V2_FIXED_LENGTH + payloadLength;
  if (buf.length < length) return null;

  // LOCAL: "the receiver must accept this connection as valid and must use the real connection
  // endpoints and discard the protocol block including the family"
  if (command === CMD_LOCAL) return { result: { kind: 'local', version: 2 }, length };

  // PROXY with AF_UNSPEC/UNSPEC: the spec lets the receiver accept it with the real endpoints
  if (family === FAM_UNSPEC && proto === PROTO_UNSPEC) return { result: { kind: 'local', version: 2 }, length };
  if (proto !== PROTO_STREAM || (family !== FAM_INET && family !== FAM_INET6)) {
    return invalid(`v2 header proxies family ${family} protocol ${proto}; only TCP over IPv4 or IPv6 is accepted`);
  }
  const addressBytes = family === FAM_INET ? 4 : 16;
  const addressBlock = 2 * addressBytes + 4;
  if (payloadLength < addressBlock) return invalid(`v2 header length ${payloadLength} is too short for its ${family === FAM_INET ? 'IPv4' : 'IPv6'} addresses`);

  let offset = V2_FIXED_LENGTH;
  const source = v2Address(buf.subarray(offset, offset + addressBytes));
  offset += addressBytes;
  const dest = v2Address(buf.subarray(offset, offset + addressBytes));
  offset += addressBytes;
  const sourcePort = buf.readUInt16BE(offset);
  const destPort = buf.readUInt16BE(offset + 2);
  offset += 4;

  const tlvs: ProxyTlv[] = [];
  let crcOffset = -1;
  while (offset < length) {
    if (length - offset < 3) return invalid('v2 header has a truncated TLV');
    const type = buf[offset]!;
    const valueLength = buf.readUInt16BE(offset + 1);
    const valueStart = offset + 3;
    if (valueStart + valueLength > length) return invalid(`v2 header has a TLV (type 0x${type.toString(16)}) that runs past the header`);
    if (type === PP2_TYPE_CRC32C) {
      if (valueLength !== 4 || crcOffset >= 0) return invalid('v2 header has a malformed CRC32c TLV');
      crcOffset = valueStart;
    }
    tlvs.push({ type, value: Buffer.from(buf.subarray(valueStart, valueStart + valueLength)) });
    offset = valueStart + valueLength;
  }
  if (crcOffset >= 0) {
    // "If the checksum is provided ... and supported by the receiver, the receiver MUST" verify it
    const header = Buffer.from(buf.subarray(0, length));
    const expected = header.readUInt32BE(crcOffset);
    header.fill(0, crcOffset, crcOffset + 4);
    if (crc32c(header) !== expected) return invalid('v2 header CRC32c checksum does not match');
  }
  return { result: { kind: 'proxied', version: 2, sourceAddress: source, sourcePort, destAddress: dest, destPort, tlvs }, length };
}

function v2Address(bytes: Buffer): string {
  const ip = ipaddr.fromByteArray([...bytes]);
  return ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toString();
}

// ------------------------------------------------------------------------------------ socket reader

/**
 * Reads one PROXY header (v1 or v2) from the start of `socket`.
 *
 * Only the header is consumed: whatever arrived behind it (an SMTP command pipelined by an early
 * talker, a TLS ClientHello) is pushed back with socket.unshift() and stays in the socket, which is
 * left paused for the next reader (smtp-server's connect(), or a tls.TLSSocket). Call it before
 * anything else reads from the socket. Never rejects; a timeout, a close, a socket error or a
 * malformed header all resolve to `{ kind: 'invalid' }`, after which the caller should close the
 * connection (its bytes are not preserved then).
 */
export function readProxyHeader(socket: net.Socket, opts: ReadProxyHeaderOptions): Promise<ProxyResult> {
  return new Promise<ProxyResult>((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    let finished = false;

    const finish = (result: ProxyResult, rest?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const fail = (reason: string) => finish({ kind: 'invalid', reason, missing: received.length === 0 });

    const onReadable = () => {
      let chunk: Buffer | null;
      while (!finished && (chunk = socket.read() as Buffer | null) !== null) {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        const parsed = parseProxyHeader(received, opts);
        if (parsed === null) continue;
        if (parsed.result.kind === 'invalid') finish(parsed.result);
        else finish(parsed.result, received.subarray(parsed.length));
      }
    };
    const onEnd = () => fail(`connection closed after ${received.length} bytes, before a complete PROXY header`);
    const onClose = () => fail(`connection closed after ${received.length} bytes, before a complete PROXY header`);
    const onError = (err: Error) => fail(`socket error before a complete PROXY header: ${err.message}`);
    const timer = setTimeout(() => fail(`no complete PROXY header within ${opts.timeoutMs} ms (${received.length} bytes received)`), opts.timeoutMs);

    if (socket.destroyed || socket.readableEnded) {
      fail('connection already closed');
      return;
    }
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
