/**
 * Slot reclaiming (slot-reclaim.ts) over real sockets against smtp-server with maxClients set:
 * the newcomer is served, the longest-waiting idle session before MAIL makes way, and sessions
 * in a transaction or authenticated never do. Clients bind to several 127.x.y.z addresses
 * (Linux routes all of 127/8 to lo) for the per-IP and per-network cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryState } from '@portcullis/state';
import { FlowControl } from '../../src/connect/flow-control.js';
import { DEFAULT_FLOW_OPTIONS } from '../../src/connect/flow-options.js';
import { CommandTimeouts } from '../../src/session/command-timeouts.js';
import { SlotReclaim } from '../../src/session/slot-reclaim.js';
import { OURS, RawClient, eventually, expectCode, withHarness } from '../smtp-harness.js';

const slow = { greetingMs: 60_000, mailMs: 60_000 };
const auth = `AUTH PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`;

test('a newcomer at maxClients is served; the session that has waited longest before MAIL gets 421 4.7.0 (busy)', async () => {
  await withHarness({ maxClients: 4, reclaim: { atFraction: 1, stressAtFraction: 1 }, commandTimeouts: slow }, async (h) => {
    const first = await RawClient.connect(h.port); // says nothing after the greeting
    await sleep(30);
    const second = await RawClient.connect(h.port);
    await expectCode(second.command('EHLO idle.example'), 250);
    const third = await RawClient.connect(h.port);
    const fourth = await RawClient.connect(h.port);
    // `first` connected first, but its NOOP restarts its wait: now `second` has waited longest.
    await sleep(30);
    await expectCode(first.command('NOOP'), 250);
    const fifth = await RawClient.connect(h.port);
    const gone = await second.next(2000);
    assert.equal(gone.code, 421);
    assert.equal(gone.text, '4.7.0 Server busy, closing idle connection, try again later');
    assert.ok(await second.closedWithin(2000));
    assert.equal(h.reclaimed.length, 1);
    assert.deepEqual([h.reclaimed[0]!.reason, h.reclaimed[0]!.phase], ['max-clients', 'mail']);
    for (const c of [first, third, fourth, fifth]) assert.equal(c.ended, false);
    // The newcomer goes on to deliver.
    await fifth.startData();
    fifth.write('Subject: hi\r\n\r\nbody\r\n.\r\n');
    await expectCode(fifth.next(), 250);
    for (const c of [first, third, fourth, fifth]) c.destroy();
  });
});

test('sessions in a transaction and authenticated sessions are never reclaimed; with nothing to reclaim the newcomer is refused', async () => {
  await withHarness({ auth: true, maxClients: 3, reclaim: { atFraction: 1, stressAtFraction: 1 }, commandTimeouts: slow }, async (h) => {
    const sending = await RawClient.connect(h.port);
    await expectCode(sending.command('EHLO sender.example'), 250);
    await expectCode(sending.command('MAIL FROM:<a@sender.example>'), 250);
    await expectCode(sending.command(`RCPT TO:<user@${OURS}>`), 250);
    const user = await RawClient.connect(h.port);
    await expectCode(user.command('EHLO user.example'), 250);
    await expectCode(user.command(auth), 235);
    const idle = await RawClient.connect(h.port);
    // Both older waits than `idle`'s, and still only `idle` may go.
    const newcomer = await RawClient.connect(h.port);
    assert.equal((await idle.next(2000)).code, 421);
    await expectCode(newcomer.command('EHLO new.example'), 250);
    await expectCode(newcomer.command('MAIL FROM:<b@sender.example>'), 250);
    // Now every slot is a transaction or authenticated: smtp-server refuses as before.
    const refused = await RawClient.open(h.port);
    const r = await refused.greeting;
    assert.equal(r.code, 421);
    assert.match(r.text, /^4\.7\.0 .*Too many connected clients/);
    refused.destroy();
    // The held transaction completes, the authenticated user still works.
    await expectCode(sending.command('DATA'), 354);
    sending.write('Subject: held\r\n\r\nbody\r\n.\r\n');
    await expectCode(sending.next(), 250);
    await expectCode(user.command('NOOP'), 250);
    assert.equal(h.reclaimed.length, 1);
    for (const c of [sending, user, newcomer]) c.destroy();
  });
});

test('reclaiming starts above atFraction and keeps the open sessions at it; off, newcomers are refused at maxClients', async () => {
  await withHarness({ maxClients: 10, reclaim: { atFraction: 0.5, stressAtFraction: 1 }, commandTimeouts: slow }, async (h) => {
    const clients: RawClient[] = [];
    for (let i = 0; i < 12; i++) clients.push(await RawClient.connect(h.port));
    await eventually(() => clients.filter((c) => c.ended).length === 7);
    assert.equal(h.reclaimed.length, 7, 'each connection past 5 of 10 reclaimed one');
    assert.deepEqual(
      clients.map((c) => c.ended),
      [...Array<boolean>(7).fill(true), ...Array<boolean>(5).fill(false)],
      'the longest waiting went first',
    );
    for (const c of clients) c.destroy();
  });
  await withHarness({ maxClients: 3, reclaim: { enabled: false }, commandTimeouts: slow }, async (h) => {
    const clients = [await RawClient.connect(h.port), await RawClient.connect(h.port), await RawClient.connect(h.port)];
    const fourth = await RawClient.open(h.port);
    assert.equal((await fourth.greeting).code, 421);
    assert.equal(h.reclaimed.length, 0);
    for (const c of [...clients, fourth]) c.destroy();
  });
});

test('flow control: a full per-IP or per-network cap reclaims an idle session of the same IP or network, never of another', async () => {
  await withHarness({ maxClients: 100, commandTimeouts: slow }, async (h) => {
    const flow = new FlowControl({
      state: new MemoryState(),
      options: {
        ...DEFAULT_FLOW_OPTIONS,
        perIp: { ...DEFAULT_FLOW_OPTIONS.perIp, connections: 2, connectionsPerMinute: 3 },
        perNetwork: { ...DEFAULT_FLOW_OPTIONS.perNetwork, connections: 3 },
      },
      makeRoom: (rule, matches) => h.reclaim.makeRoom(rule, matches),
    });
    try {
      // Sessions that hold flow slots: what the edge's onConnect does, keyed by smtp-server's session id.
      const admitted = async (ip: string) => {
        const c = await RawClient.connect(h.port, ip);
        const id = [...h.server.connections].map((x) => x as unknown as { id: string; remoteAddress: string }).find((x) => x.remoteAddress === ip && !ids.has(x.id))!.id;
        ids.add(id);
        assert.equal((await flow.onConnect(ip, id)).action, 'allow');
        return c;
      };
      const ids = new Set<string>();
      const a1 = await admitted('127.10.1.1');
      const a2 = await admitted('127.10.1.1');
      const b1 = await admitted('127.10.1.2');
      const other = await admitted('127.10.2.1');
      // A third connection from 127.10.1.1: its per-IP cap (2) is full; a1 waited longest. Retrying
      // after the reclaim does not count the connection twice (3 per minute would refuse a fourth).
      assert.equal((await flow.onConnect('127.10.1.1', 'new-1')).action, 'allow');
      assert.equal((await a1.next(2000)).code, 421);
      assert.deepEqual(
        h.reclaimed.map((e) => [e.reason, e.client]),
        [['perIp.connections', '127.10.1.1']],
      );
      // 127.10.1.3 is a new IP in a full /24 (a2, b1, new-1 hold its 3 slots): a2 or b1 goes, never `other`.
      assert.equal((await flow.onConnect('127.10.1.3', 'new-2')).action, 'allow');
      assert.equal((await a2.next(2000)).code, 421, 'a2 waited longer than b1');
      assert.equal(h.reclaimed[1]!.reason, 'perNetwork.connections');
      await sleep(100);
      assert.equal(b1.ended || other.ended, false);
      // With nothing left to reclaim in the network, the cap refuses as before.
      await expectCode(b1.command('EHLO b1.example'), 250);
      await expectCode(b1.command('MAIL FROM:<b@sender.example>'), 250);
      const v = await flow.onConnect('127.10.1.4', 'new-3');
      assert.equal(v.action === 'refuse' && v.refusal.reason, 'perNetwork.connections');
      for (const c of [b1, other]) c.destroy();
    } finally {
      await flow.close();
    }
  });
});

test('pressure: on at stressAtFraction of maxClients, off only below 90% of it (no flapping at the line)', () => {
  const seen: boolean[] = [];
  const reclaim = new SlotReclaim({ stressAtFraction: 0.8 }, { onPressure: (_l, on) => seen.push(on) });
  const timeouts = new CommandTimeouts();
  const slots = reclaim.forListener('mx', timeouts, 100);
  slots.admitted(79);
  slots.admitted(80);
  assert.equal(timeouts.underPressure, true);
  for (const open of [79, 80, 75, 72]) slots.released(open);
  assert.equal(timeouts.underPressure, true);
  slots.released(71);
  assert.equal(timeouts.underPressure, false);
  assert.deepEqual(seen, [true, false]);
});
