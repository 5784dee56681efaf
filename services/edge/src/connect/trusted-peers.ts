/**
 * Which peers may send a PROXY header at all: the header is not authenticated, so accepting it from
 * anyone would let any client claim any address (CIDR matching of the load balancers).
 */
import type net from 'node:net';
import { clientAddress, NetworkList, normalizeIp } from '@portcullis/networks';
import { readProxyHeader, type ProxyResult, type ReadProxyHeaderOptions } from './proxy-protocol.js';

/** Compiles a list of CIDRs once (throws on an invalid one) into a matcher for peer addresses. */
export function createTrustedPeerMatcher(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const networks = new NetworkList(cidrs);
  return (address) => {
    const peer = clientAddress(address);
    return peer !== null && networks.contains(peer);
  };
}

/**
 * True if `address` (as a socket reports it, IPv4-mapped IPv6 included) lies in one of `cidrs`.
 * Throws if a CIDR is invalid. For a hot path, compile once with createTrustedPeerMatcher.
 */
export function isTrustedPeer(address: string, cidrs: readonly string[]): boolean {
  return createTrustedPeerMatcher(cidrs)(address);
}

export type PeerProxyResult = { kind: 'untrusted'; peerAddress: string } | ProxyResult;

export interface TrustedProxyOptions extends ReadProxyHeaderOptions {
  /** The load balancers: CIDR strings, or a matcher from createTrustedPeerMatcher. */
  trusted: readonly string[] | ((address: string | undefined) => boolean);
}

/**
 * First step for a freshly accepted socket of a listener behind a PROXY-protocol load balancer:
 * a peer outside the trusted networks gets `{ kind: 'untrusted' }` and nothing is read from its socket
 * (serve it as a direct client if the listener allows that, or refuse it); a trusted peer must send a
 * header (the spec forbids guessing whether one is there), which is read and returned.
 */
export async function readProxyHeaderIfTrusted(socket: net.Socket, opts: TrustedProxyOptions): Promise<PeerProxyResult> {
  const isTrusted = typeof opts.trusted === 'function' ? opts.trusted : createTrustedPeerMatcher(opts.trusted);
  if (!isTrusted(socket.remoteAddress)) return { kind: 'untrusted', peerAddress: normalizeIp(socket.remoteAddress) ?? String(socket.remoteAddress) };
  return readProxyHeader(socket, opts);
}
