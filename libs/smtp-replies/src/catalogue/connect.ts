import { defineReply } from '../reply.js';
import { who, type Counted } from './client.js';

/** Before the greeting: PROXY header, flow control, DNSBL, early talkers, shutdown. */

export const shuttingDown = defineReply({
  id: 'connect.shutting-down',
  code: 421,
  enhanced: '4.3.2',
  text: 'Service shutting down, try again later',
  checks: 'onConnect',
});

export const proxyRequired = defineReply({
  id: 'connect.proxy-required',
  code: 421,
  enhanced: '4.7.0',
  text: 'PROXY protocol header required',
  checks: 'createProxiedListener',
});

export const proxyInvalid = defineReply({
  id: 'connect.proxy-invalid',
  code: 421,
  enhanced: '4.7.0',
  text: 'Invalid PROXY protocol header',
  checks: 'createProxiedListener',
});

export const tooManyPending = defineReply({
  id: 'connect.too-many-pending',
  code: 421,
  enhanced: '4.3.2',
  text: 'Too many connections, try again later',
  checks: 'createProxiedListener',
});

export const denied = defineReply({
  id: 'connect.denied',
  code: 554,
  enhanced: '5.7.1',
  text: (ip: string) => `Access denied for [${ip}]`,
  example: ['192.0.2.10'],
  checks: 'FlowControl.onConnect',
});

export const rate = defineReply({
  id: 'connect.rate',
  code: 421,
  enhanced: '4.7.0',
  text: (client: Counted, limit: number) => `Too many connections from ${who(client)} (limit ${limit} per minute), try again later`,
  example: [{ ip: '192.0.2.10' }, 30],
  checks: 'FlowControl.onConnect',
});

export const concurrent = defineReply({
  id: 'connect.concurrent',
  code: 421,
  enhanced: '4.7.0',
  text: (client: Counted, limit: number) => `Too many concurrent connections from ${who(client)} (limit ${limit}), try again later`,
  example: [{ network: '192.0.2.0/24' }, 20],
  checks: 'FlowControl.onConnect',
});

export const dnsbl = defineReply({
  id: 'connect.dnsbl',
  code: 554,
  enhanced: '5.7.1',
  text: (ip: string, lists: readonly string[]) => `Service unavailable; client [${ip}] is listed by ${lists.join(', ') || 'block lists'}`,
  example: ['192.0.2.10', ['zen.dnsbl.test']],
  checks: 'ConnectDnsbl.onConnect',
});

/** smtp-server's text (it prefixes the host name); installReplyWriter gives it this code instead of 4.4.2 "timeout". */
export const earlyTalker = defineReply({
  id: 'connect.early-talker',
  code: 421,
  enhanced: '4.7.0',
  text: (hostname: string) => `${hostname} You talk too soon`,
  example: ['mx.example.test'],
  checks: 'installReplyWriter',
  writer: 'smtp-server',
});

/** smtp-server's text at smtp.maxClients; installReplyWriter adds the enhanced code it lacks. */
export const tooManyClients = defineReply({
  id: 'connect.too-many-clients',
  code: 421,
  enhanced: '4.7.0',
  text: (hostname: string) => `${hostname} Too many connected clients, try again in a moment`,
  example: ['mx.example.test'],
  checks: 'installReplyWriter',
  writer: 'smtp-server',
});
