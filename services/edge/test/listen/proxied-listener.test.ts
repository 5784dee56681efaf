import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { V2_SIGNATURE } from '../../src/connect/proxy-protocol.js';
import {
  REPLY_PROXY_INVALID,
  REPLY_PROXY_REQUIRED,
  createListener,
  createProxiedListener,
  type Listening,
  type ProxyListenerConfig,
  type RefusalEvent,
} from '../../src/listen/proxied-listener.js';

// ------------------------------------------------------------------------------------------ helpers

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const v2Inet = (src: string, dst: string, sport: number, dport: number) =>
  Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11]), u16(12), Buffer.from(src.split('.').map(Number)), Buffer.from(dst.split('.').map(Number)), u16(sport), u16(dport)]);
const v2Local = () => Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00]), u16(0)]);

interface Seen {
  session: Pick<SMTPServerSession, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort' | 'secure'>;
}

/**
 * A real SMTPServer (never listen()ed) that records what onConnect, onSecure and onData see; with
 * `capture`, also the command lines smtp-server parsed and the peers of closed connections, from its log.
 */
function smtp(extra: SMTPServerOptions = {}, capture = false) {
  const connects: Seen['session'][] = [];
  const secures: string[] = [];
  const messages: Array<{ remoteAddress: string; body: string }> = [];
  const commands: string[] = [];
  const closedFrom: string[] = [];
  const pick = (s: SMTPServerSession) => ({ remoteAddress: s.remoteAddress, remotePort: s.remotePort, localAddress: s.localAddress, localPort: s.localPort, secure: s.secure });
  const logger = {
    debug: (entry: { tnx?: string }, ...args: unknown[]) => {
      if (entry.tnx === 'command') commands.push(args.slice(1).join(' '));
    },
    info: (entry: { tnx?: string; host?: string }) => {
      if (entry.tnx === 'close' && entry.host) closedFrom.push(entry.host);
    },
    warn: () => {},
    error: () => {},
    trace: () => {},
    fatal: () => {},
  };
  const server = new SMTPServer({
    // logger: false also silences smtp-server's warning about its built-in test certificate
    logger: capture ? (logger as unknown as SMTPServerOptions['logger']) : false,
    ...(capture ? { hideSTARTTLS: true } : {}),
    disableReverseLookup: true,
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    onConnect(session, cb) {
      connects.push(pick(session));
      cb();
    },
    onSecure(_socket, session, cb) {
      secures.push(session.remoteAddress);
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ remoteAddress: session.remoteAddress, body: Buffer.concat(chunks).toString('latin1') });
        cb();
      });
    },
    ...extra,
  });
  server.on('error', () => {});
  return { server, connects, secures, messages, commands, closedFrom };
}

/** Reads SMTP replies (multi-line aware) from a socket. */
class Client {
  private buffer = '';
  private replies: string[] = [];
  private waiting: Array<(reply: string | null) => void> = [];
  ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket | tls.TLSSocket) {
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      let m: RegExpMatchArray | null;
      while ((m = this.buffer.match(/^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/)) !== null) {
        this.buffer = this.buffer.slice(m[1]!.length);
        this.push(m[1]!);
      }
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        for (const w of this.waiting.splice(0)) w(null);
        resolve();
      }),
    );
  }

  private push(reply: string) {
    const w = this.waiting.shift();
    if (w) w(reply);
    else this.replies.push(reply);
  }

  /** Next complete reply, or null once the connection is closed. */
  reply(timeoutMs = 3000): Promise<string | null> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms (buffer ${JSON.stringify(this.buffer)})`)), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  async command(line: string): Promise<string | null> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }
}

async function connect(port: number, first?: Buffer | string): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new Client(socket);
  await once(socket, 'connect');
  if (first !== undefined) socket.write(first);
  return client;
}

/**
 * Implicit TLS through the listener, with the PROXY header and the TLS ClientHello in ONE write: a
 * Duplex under the TLS client prepends the header to the first bytes TLS writes.
 */
async function connectTls(port: number, header?: Buffer): Promise<Client> {
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await once(raw, 'connect');
  let pendingHeader = header;
  const carrier = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      const data = pendingHeader ? Buffer.concat([pendingHeader, chunk]) : chunk;
      pendingHeader = undefined;
      raw.write(data, cb);
    },
    read() {},
    final(cb) {
      raw.end(cb);
    },
  });
  raw.on('data', (d: Buffer) => carrier.push(d));
  raw.on('end', () => carrier.push(null));
  raw.on('close', () => carrier.destroy());
  const socket = tls.connect({ socket: carrier, rejectUnauthorized: false, servername: 'localhost' });
  const client = new Client(socket);
  await once(socket, 'secureConnect');
  return client;
}

/** A listener on 127.0.0.1, closed when the test ends whatever happens. */
async function start(
  t: TestContext,
  server: SMTPServer,
  proxy?: ProxyListenerConfig,
  extra: { onRefused?: (e: RefusalEvent) => void; maxPending?: number } = {},
): Promise<Listening> {
  const listener = await createListener(server, { host: '127.0.0.1', port: 0, ...(proxy ? { proxy } : {}), ...extra });
  t.after(() => listener.close(0));
  return listener;
}

const TRUST_LOCALHOST: ProxyListenerConfig = { trustedCidrs: ['127.0.0.0/8'], required: true, headerTimeoutMs: 300 };

// ------------------------------------------------------------------------------------------ tests

test('without proxy configuration, connections go straight to smtp-server', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server);
  const c = await connect(listener.address().port);
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.equal(s.connects[0]?.remoteAddress, '127.0.0.1');
  assert.match((await c.command('QUIT')) ?? '', /^221 /);
  await listener.close(100);
});

test('a trusted proxy: smtp-server sees the client from the v1 header in onConnect and onData', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const c = await connect(listener.address().port, 'PROXY TCP4 203.0.113.7 198.51.100.25 40123 25\r\n');
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.deepEqual(s.connects, [{ remoteAddress: '203.0.113.7', remotePort: 40123, localAddress: '198.51.100.25', localPort: 25, secure: false }]);
  assert.match((await c.command('EHLO client.example')) ?? '', /^250-.*\[203\.0\.113\.7\]/);
  assert.match((await c.command('MAIL FROM:<a@example.org>')) ?? '', /^250 /);
  assert.match((await c.command('RCPT TO:<b@example.net>')) ?? '', /^250 /);
  assert.match((await c.command('DATA')) ?? '', /^354 /);
  assert.match((await c.command('Subject: hi\r\n\r\nbody\r\n.')) ?? '', /^250 /);
  assert.deepEqual(s.messages, [{ remoteAddress: '203.0.113.7', body: 'Subject: hi\r\n\r\nbody\r\n' }]);
  await c.command('QUIT');
  await listener.close(100);
});

test('a trusted proxy: v2 header and an SMTP command in the same packet, the command reaches smtp-server intact', async (t) => {
  const s = smtp({}, true);
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const c = await connect(listener.address().port, Buffer.concat([v2Inet('192.0.2.99', '198.51.100.25', 55555, 25), Buffer.from('EHLO early.example\r\n')]));
  // it is an early talker (smtp-server waits 100 ms before its greeting), which smtp-server refuses,
  // but only after parsing exactly the bytes that followed the header
  assert.match((await c.reply()) ?? '', /^421 .*You talk too soon/);
  assert.deepEqual(s.commands, ['EHLO early.example']);
  await c.closed;
  await sleep(20);
  // onConnect never ran (the greeting was not sent yet); the connection was the proxied client's
  assert.equal(s.connects.length, 0);
  assert.ok(s.closedFrom.length > 0, 'smtp-server logged the close');
  assert.deepEqual(new Set(s.closedFrom), new Set(['192.0.2.99']));
  await listener.close(100);
});

test('v2 LOCAL (a health check of the load balancer) keeps the socket address', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const c = await connect(listener.address().port, v2Local());
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.equal(s.connects[0]?.remoteAddress, '127.0.0.1');
  await c.command('QUIT');
  await listener.close(100);
});

test('an untrusted peer on a listener that requires PROXY gets 421 and is closed, even with a header', async (t) => {
  const s = smtp();
  const refused: RefusalEvent[] = [];
  const listener = await start(t, s.server, { trustedCidrs: ['10.0.0.0/8', '2001:db8::/32'], required: true }, { onRefused: (e) => refused.push(e) });
  const c = await connect(listener.address().port, 'PROXY TCP4 203.0.113.7 198.51.100.25 40123 25\r\nEHLO x\r\n');
  assert.equal(await c.reply(), REPLY_PROXY_REQUIRED);
  assert.equal(await c.reply(), null, 'closed after the 421');
  assert.equal(s.connects.length, 0);
  assert.equal(refused[0]?.reason, 'untrusted-peer');
  assert.equal(refused[0]?.peerAddress, '127.0.0.1');
  await listener.close(100);
});

test('an untrusted peer on a listener that does not require PROXY is served directly; its header is not believed', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server, { trustedCidrs: ['10.0.0.0/8'], required: false });
  const c = await connect(listener.address().port);
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.equal(s.connects[0]?.remoteAddress, '127.0.0.1');
  // a PROXY line after the greeting is just an unknown SMTP command
  assert.match((await c.command('PROXY TCP4 203.0.113.7 198.51.100.25 40123 25')) ?? '', /^5\d\d /);
  assert.equal(s.connects.length, 1);
  await c.command('QUIT');
  await listener.close(100);
});

test('a trusted peer with an invalid, a missing or a late header gets 421 and nothing reaches smtp-server', async (t) => {
  const s = smtp();
  const refused: RefusalEvent[] = [];
  const listener = await start(t, s.server, TRUST_LOCALHOST, { onRefused: (e) => refused.push(e) });
  const { port } = listener.address();

  let c = await connect(port, 'PROXY TCP4 203.0.113.7 198.51.100.256 40123 25\r\nEHLO x\r\n');
  assert.equal(await c.reply(), REPLY_PROXY_INVALID);
  assert.equal(await c.reply(), null);

  c = await connect(port, 'EHLO direct.example\r\n');
  assert.equal(await c.reply(), REPLY_PROXY_REQUIRED);
  assert.equal(await c.reply(), null);

  const started = Date.now();
  c = await connect(port); // sends nothing, waits for a greeting that never comes
  assert.equal(await c.reply(), REPLY_PROXY_REQUIRED);
  assert.ok(Date.now() - started >= 250, 'after the header timeout');
  assert.equal(await c.reply(), null);

  c = await connect(port, 'PROXY TCP4 203.0.113.7 '); // starts a header, never finishes it
  assert.equal(await c.reply(), REPLY_PROXY_INVALID);

  // a TCP health check (connect, close) is dropped without a refusal to report
  c = await connect(port);
  c.socket.end();
  await c.closed;

  assert.equal(s.connects.length, 0);
  assert.deepEqual(
    refused.map((r) => r.reason),
    ['invalid-header', 'missing-header', 'missing-header', 'invalid-header'],
  );
  await listener.close(100);
});

test('implicit TLS (465): PROXY v2 header and ClientHello in one packet, then TLS, with the proxied address', async (t) => {
  const s = smtp({ secure: true });
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const c = await connectTls(listener.address().port, v2Inet('198.18.0.1', '198.51.100.25', 33333, 465));
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.equal((c.socket as tls.TLSSocket).encrypted, true);
  assert.deepEqual(s.connects, [{ remoteAddress: '198.18.0.1', remotePort: 33333, localAddress: '198.51.100.25', localPort: 465, secure: true }]);
  assert.deepEqual(s.secures, ['198.18.0.1'], 'onSecure once, with the proxied address');
  assert.match((await c.command('EHLO client.example')) ?? '', /250[ -]AUTH/);
  await c.command('QUIT');
  await listener.close(100);
});

test('implicit TLS without proxy, and a plaintext client on it is dropped at the handshake', async (t) => {
  const s = smtp({ secure: true });
  const refused: RefusalEvent[] = [];
  const listener = await start(t, s.server, undefined, { onRefused: (e) => refused.push(e) });
  const c = await connectTls(listener.address().port);
  assert.match((await c.reply()) ?? '', /^220 /);
  assert.equal(s.connects[0]?.secure, true);
  assert.equal(s.connects[0]?.remoteAddress, '127.0.0.1');
  await c.command('QUIT');

  const plain = await connect(listener.address().port, 'EHLO x\r\n');
  await plain.closed;
  assert.equal(s.connects.length, 1);
  assert.equal(refused[0]?.reason, 'tls-handshake');
  await listener.close(100);
});

test('implicit TLS: a trusted peer with a bad header is closed before any TLS', async (t) => {
  const s = smtp({ secure: true });
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const c = await connect(listener.address().port, 'PROXY TCP4 1.2.3.4\r\n');
  await c.closed;
  assert.equal(s.connects.length, 0);
  await listener.close(100);
});

test('maxPending bounds the sockets waiting for their header', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server, { ...TRUST_LOCALHOST, headerTimeoutMs: 2000 }, { maxPending: 1 });
  const { port } = listener.address();
  const first = await connect(port); // silent, holds the only pending slot
  await sleep(50);
  assert.equal(listener.pending(), 1);
  const second = await connect(port, 'PROXY TCP4 203.0.113.7 198.51.100.25 40123 25\r\n');
  assert.match((await second.reply()) ?? '', /^421 4\.3\.2 /);
  first.socket.destroy();
  await listener.close(100);
});

test('close(): pending sockets are dropped at once, sessions get the grace period and then 421', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server, TRUST_LOCALHOST);
  const { port } = listener.address();
  const session = await connect(port, 'PROXY TCP4 203.0.113.7 198.51.100.25 40123 25\r\n');
  assert.match((await session.reply()) ?? '', /^220 /);
  const waiting = await connect(port); // no header yet
  await sleep(30);
  assert.equal(listener.pending(), 1);

  const started = Date.now();
  const closing = listener.close(300);
  await waiting.closed;
  assert.ok(Date.now() - started < 200, 'pending socket dropped without waiting for the grace period');
  // the session still works during the grace period
  assert.match((await session.command('NOOP')) ?? '', /^250 /);
  assert.match((await session.reply()) ?? '', /^421 .*shutting down/i);
  await session.closed;
  await closing;
  assert.ok(Date.now() - started >= 290, 'sessions got the grace period');
  // no longer accepting
  await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)), /ECONNREFUSED/);
});

test('close() resolves as soon as the last session ends on its own', async (t) => {
  const s = smtp();
  const listener = await start(t, s.server);
  const c = await connect(listener.address().port);
  assert.match((await c.reply()) ?? '', /^220 /);
  const started = Date.now();
  const closing = listener.close(5000);
  await c.command('QUIT');
  await closing;
  assert.ok(Date.now() - started < 1000);
});

test('misconfigured SMTPServer options are refused when the listener is created', () => {
  assert.throws(() => createProxiedListener(smtp({ secure: true }).server, { implicitTls: false }), /secure: true but implicitTls is off/);
  assert.throws(() => createProxiedListener(smtp().server, { implicitTls: true }), /implicitTls needs/);
  assert.throws(() => createProxiedListener(smtp({ useProxy: true }).server), /without useProxy/);
  assert.throws(() => createProxiedListener(smtp().server, { proxy: { trustedCidrs: ['10.0.0.0/40'], required: true } }), /invalid CIDR/);
});
