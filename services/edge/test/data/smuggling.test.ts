import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { collectMessage, findBareLineEnding } from '../../src/data/collect.js';
import { ByteBudget } from '../../src/data/byte-budget.js';
import { HIDDEN_SENDER, SMUGGLING_PAYLOADS, type SmugglingPayload } from '../fixtures/smuggling.js';
import { RawClient, startHarness, type Harness } from '../smtp-harness.js';

const BARE = /\r(?!\n)|(?<!\r)\n/;
const latin1 = (buf: Buffer) => buf.toString('latin1');

/** RFC 5321 4.5.2 transparency, as every client applies it on the next hop. */
const dotStuff = (msg: Buffer) => latin1(msg).replace(/(^|\r\n)\./g, '$1..');

async function collect(payload: SmugglingPayload, mode: 'reject' | 'normalize', bytewise: boolean) {
  const chunks = bytewise ? [...payload.content].map((x) => Buffer.from([x])) : [payload.content];
  const budget = new ByteBudget(1 << 20);
  const held = { bytes: 0 };
  const result = await collectMessage(Readable.from(chunks), 1 << 20, mode, budget, held);
  budget.give(held.bytes);
  return result;
}

test('the corpus covers the SEC Consult fake ends of data, NUL variants, bare CR/LF in headers and bodies, and segmentation', () => {
  const names = SMUGGLING_PAYLOADS.map((p) => p.name);
  for (const seq of ['LF . LF', 'LF . CRLF', 'CR . CR', 'CR . CRLF', 'CRLF . LF', 'CRLF . CR', 'LF . CR', 'CRLF NUL . CRLF', 'CRLF . NUL CRLF']) {
    assert.ok(names.includes(seq), seq);
  }
  assert.ok(SMUGGLING_PAYLOADS.filter((p) => p.hidden).length >= 13);
  for (const p of SMUGGLING_PAYLOADS) {
    const wire = Buffer.concat(p.segments);
    assert.ok(latin1(wire).endsWith('\r\n.\r\n'), `${p.name} ends with the real end of data`);
    assert.equal(latin1(wire).indexOf('\r\n.\r\n'), wire.length - 5, `${p.name} has no real end of data before the last`);
  }
});

for (const payload of SMUGGLING_PAYLOADS) {
  test(`collectMessage: ${payload.name}`, async () => {
    for (const bytewise of [false, true]) {
      const rejected = await collect(payload, 'reject', bytewise);
      if (payload.bare) {
        assert.equal(rejected.ok, false, 'reject refuses it');
        assert.equal(!rejected.ok && rejected.reason, 'bare-line-ending');
      } else {
        assert.equal(rejected.ok && latin1(rejected.message), latin1(payload.content), 'nothing bare: stored as sent');
      }

      const normalized = await collect(payload, 'normalize', bytewise);
      if (payload.nul) {
        assert.equal(!normalized.ok && normalized.reason, 'bare-line-ending', 'a NUL is refused in both modes');
        continue;
      }
      assert.ok(normalized.ok);
      const msg = normalized.message;
      assert.equal(findBareLineEnding(msg), -1);
      assert.doesNotMatch(latin1(msg), BARE, 'every line ends with CRLF');
      if (payload.hidden) assert.ok(latin1(msg).includes(`MAIL FROM:<${HIDDEN_SENDER}>`), 'the hidden command is kept, as text');
      // On the next hop, after dot-stuffing, the only end of data is the real one.
      const wire = `${dotStuff(msg)}${latin1(msg).endsWith('\r\n') ? '' : '\r\n'}.\r\n`;
      assert.equal(wire.indexOf('\r\n.\r\n'), wire.length - 5);
    }
  });
}

/** Sends each payload in its own session (MAIL FROM a legit sender), QUIT pipelined right after it. */
async function sendAll(h: Harness): Promise<Map<string, number[]>> {
  const replies = new Map<string, number[]>();
  await Promise.all(
    SMUGGLING_PAYLOADS.map(async (p) => {
      const c = await RawClient.connect(h.port);
      try {
        await c.startData({ from: 'alice@sender.example' });
        for (const [i, segment] of p.segments.entries()) {
          if (i > 0) await sleep(50);
          c.write(segment);
        }
        c.write('QUIT\r\n');
        replies.set(
          p.name,
          (await c.rest()).map((r) => r.code),
        );
      } finally {
        c.destroy();
      }
    }),
  );
  return replies;
}

for (const mode of ['reject', 'normalize'] as const) {
  test(`real smtp-server (raw sockets, ${mode}): DATA ends only at CRLF.CRLF; the hidden MAIL FROM is never a command`, async () => {
    const h = await startHarness({ bareLineEndings: mode });
    try {
      const replies = await sendAll(h);
      for (const p of SMUGGLING_PAYLOADS) {
        const refused = mode === 'reject' ? p.bare : p.nul;
        // One reply for the end of data, one for QUIT: nothing for the hidden commands.
        assert.deepEqual(replies.get(p.name), [refused ? 550 : 250, 221], p.name);
      }
      assert.equal(h.mailFroms.length, SMUGGLING_PAYLOADS.length);
      assert.ok(
        h.mailFroms.every((f) => f === 'alice@sender.example'),
        'no MAIL FROM but the legit one reached onMailFrom',
      );
      assert.equal(h.outcomes.length, SMUGGLING_PAYLOADS.length, 'one message per session');
      const raws = new Set(h.outcomes.map((o) => latin1(o.raw)));
      for (const p of SMUGGLING_PAYLOADS) assert.ok(raws.has(latin1(p.content)), `${p.name}: the DATA stream is everything up to the real end`);
      for (const o of h.outcomes) {
        if (o.stored) assert.doesNotMatch(latin1(o.stored), BARE, 'nothing stored has a bare CR or LF');
        if (o.stored) assert.ok(!o.stored.includes(0), 'nothing stored has a NUL');
      }
    } finally {
      await h.close();
    }
  });
}

test('relay leg: normalised messages sent on by nodemailer arrive downstream as one message each, byte for byte', async () => {
  const h = await startHarness({ bareLineEndings: 'normalize' });
  const received: Array<{ from: string; body: string }> = [];
  const downstream = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onMailFrom(address, session, cb) {
      (session as unknown as { from: string }).from = address.address;
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: (session as unknown as { from: string }).from, body: latin1(Buffer.concat(chunks)) });
        cb();
      });
    },
  });
  downstream.on('error', () => {});
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  const port = (downstream.server.address() as net.AddressInfo).port;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await sendAll(h);
    const stored = h.outcomes.flatMap((o) => (o.stored ? [o.stored] : []));
    assert.equal(stored.length, SMUGGLING_PAYLOADS.filter((p) => !p.nul).length);
    for (const raw of stored) {
      await transport.sendMail({ envelope: { from: 'alice@sender.example', to: ['user@ours.example'] }, raw });
    }
    assert.equal(received.length, stored.length, 'one downstream message per stored message');
    assert.ok(received.every((r) => r.from === 'alice@sender.example'));
    assert.deepEqual(
      received.map((r) => r.body),
      stored.map((s) => latin1(s)),
    );
  } finally {
    transport.close();
    await h.close();
    await new Promise<void>((resolve) => downstream.close(() => resolve()));
  }
});
