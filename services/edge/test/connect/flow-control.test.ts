import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryState, RedisState, type SharedState } from '@portcullis/state';
import { FlowControl, type FlowVerdict } from '../../src/connect/flow-control.js';
import { DEFAULT_FLOW_OPTIONS, type FlowLimits, type FlowOptions } from '../../src/connect/flow-options.js';
import { brokenState, healthy, PrivateRedis, RedisStates, redisServerSkip, sharedRedisSkip, TEST_STORES } from '../redis-support.js';

const OFF: FlowLimits = { connections: 0, connectionsPerMinute: 0, messagesPerMinute: 0, recipientsPerMinute: 0 };

function options(o: { perIp?: Partial<FlowLimits>; perNetwork?: Partial<FlowLimits>; allow?: string[]; deny?: string[]; leaseSeconds?: number } = {}): FlowOptions {
  return {
    allow: o.allow ?? [],
    deny: o.deny ?? [],
    perIp: { ...OFF, ...o.perIp },
    perNetwork: { ...OFF, ...o.perNetwork, ipv4PrefixLength: 24, ipv6PrefixLength: 64 },
    leaseSeconds: o.leaseSeconds ?? 60,
  };
}

function refused(v: FlowVerdict, code: number, enhanced: string, rule: string): void {
  assert.equal(v.action, 'refuse', `expected a refusal by ${rule}`);
  if (v.action !== 'refuse') return;
  assert.equal(v.refusal.reply.code, code);
  assert.equal(v.refusal.reply.enhanced, enhanced);
  assert.equal(v.refusal.reason, rule);
}

const allowed = (v: FlowVerdict, message?: string) => assert.deepEqual(v, { action: 'allow' }, message);

/** Several FlowControl instances share one store, as replicas would. */
const stores = TEST_STORES;

const redisSkip = await sharedRedisSkip();

for (const [kind, makeStore] of Object.entries(stores)) {
  describe(`flow control on ${kind} state`, { concurrency: true, skip: kind === 'redis' ? redisSkip : false }, () => {
    /** Runs fn with FlowControl instances on one store; everything is closed afterwards. */
    const withFlow = (title: string, fn: (make: (o: FlowOptions) => Promise<FlowControl>) => Promise<void>) =>
      void test(title, async () => {
        const store = makeStore();
        const flows: FlowControl[] = [];
        try {
          await fn(async (o) => {
            const f = new FlowControl({ state: await store.state(), options: o });
            flows.push(f);
            return f;
          });
        } finally {
          await Promise.all(flows.map((f) => f.close()));
          await store.close();
        }
      });

    withFlow('the deny list refuses at connect with 554 5.7.1, IPv4-mapped addresses included', async (make) => {
      const flow = await make(options({ deny: ['192.0.2.0/24', '2001:db8:bad::/48'] }));
      refused(await flow.onConnect('192.0.2.7', 's1'), 554, '5.7.1', 'deny');
      refused(await flow.onConnect('::ffff:192.0.2.7', 's2'), 554, '5.7.1', 'deny');
      refused(await flow.onConnect('2001:db8:bad:1::25', 's3'), 554, '5.7.1', 'deny');
      allowed(await flow.onConnect('198.51.100.1', 's4'));
    });

    withFlow('the allow list skips every limit', async (make) => {
      const flow = await make(options({ allow: ['10.0.0.0/8'], perIp: { connections: 1, connectionsPerMinute: 1, messagesPerMinute: 1, recipientsPerMinute: 1 } }));
      for (let i = 0; i < 5; i++) {
        allowed(await flow.onConnect('10.1.2.3', `s${i}`));
        allowed(await flow.onMailFrom('10.1.2.3'));
        allowed(await flow.onRcptTo('::ffff:10.1.2.3'));
      }
      assert.equal(flow.isAllowListed('10.1.2.3'), true);
      assert.equal(flow.openConnections, 0, 'allow-listed connections are not even counted');
    });

    withFlow('the most specific of allow and deny wins, deny on a tie', async (make) => {
      const flow = await make(options({ allow: ['10.0.0.0/8', '192.0.2.9', '203.0.113.0/24'], deny: ['10.66.0.0/16', '192.0.2.0/24', '203.0.113.0/24'] }));
      refused(await flow.onConnect('10.66.1.1', 'a'), 554, '5.7.1', 'deny');
      allowed(await flow.onConnect('10.67.1.1', 'b'));
      refused(await flow.onConnect('192.0.2.8', 'c'), 554, '5.7.1', 'deny');
      allowed(await flow.onConnect('192.0.2.9', 'd'));
      refused(await flow.onConnect('203.0.113.5', 'e'), 554, '5.7.1', 'deny');
    });

    withFlow('concurrent connections per IP: the one past the limit gets 421 4.7.0; a close frees a slot', async (make) => {
      const flow = await make(options({ perIp: { connections: 3 } }));
      for (const s of ['s1', 's2', 's3']) allowed(await flow.onConnect('198.51.100.1', s));
      const v = await flow.onConnect('198.51.100.1', 's4');
      refused(v, 421, '4.7.0', 'perIp.connections');
      assert.match(v.action === 'refuse' ? v.refusal.reply.text : '', /198\.51\.100\.1.*limit 3/);
      allowed(await flow.onConnect('198.51.100.2', 'other'));
      await flow.onClose('s4'); // refused sessions close too; nothing to free
      await flow.onClose('s2');
      allowed(await flow.onConnect('198.51.100.1', 's5'));
      refused(await flow.onConnect('198.51.100.1', 's6'), 421, '4.7.0', 'perIp.connections');
    });

    withFlow('an IPv4-mapped IPv6 address is the same client as its IPv4 address', async (make) => {
      const flow = await make(options({ perIp: { connections: 1 } }));
      allowed(await flow.onConnect('192.0.2.1', 'a'));
      refused(await flow.onConnect('::ffff:192.0.2.1', 'b'), 421, '4.7.0', 'perIp.connections');
    });

    withFlow('concurrent connections per network: /24 for IPv4, /64 for IPv6', async (make) => {
      const flow = await make(options({ perIp: { connections: 10 }, perNetwork: { connections: 2 } }));
      allowed(await flow.onConnect('198.51.100.1', 'a'));
      allowed(await flow.onConnect('198.51.100.200', 'b'));
      const v = await flow.onConnect('198.51.100.77', 'c');
      refused(v, 421, '4.7.0', 'perNetwork.connections');
      assert.match(v.action === 'refuse' ? v.refusal.reply.text : '', /198\.51\.100\.0\/24/);
      allowed(await flow.onConnect('198.51.101.1', 'd'));
      allowed(await flow.onConnect('2001:db8:1:2::1', 'e'));
      allowed(await flow.onConnect('2001:db8:1:2:ffff::9', 'f'));
      refused(await flow.onConnect('2001:db8:1:2:1234::1', 'g'), 421, '4.7.0', 'perNetwork.connections');
      allowed(await flow.onConnect('2001:db8:1:3::1', 'h'));
    });

    withFlow('connection rate per IP and per network: 421 4.7.0 at connect', async (make) => {
      const flow = await make(options({ perIp: { connectionsPerMinute: 2 }, perNetwork: { connectionsPerMinute: 3 } }));
      allowed(await flow.onConnect('203.0.113.1', 'a'));
      allowed(await flow.onConnect('203.0.113.1', 'b'));
      refused(await flow.onConnect('203.0.113.1', 'c'), 421, '4.7.0', 'perIp.connectionsPerMinute');
      // the network has seen 3 already (the refused one counts: a client hammering stays out)
      refused(await flow.onConnect('203.0.113.2', 'd'), 421, '4.7.0', 'perNetwork.connectionsPerMinute');
      allowed(await flow.onConnect('203.0.114.1', 'e'));
    });

    withFlow('message rate: 450 4.7.1 at MAIL FROM, per IP and per network', async (make) => {
      const flow = await make(options({ perIp: { messagesPerMinute: 2 }, perNetwork: { messagesPerMinute: 3 } }));
      allowed(await flow.onMailFrom('203.0.113.1'));
      allowed(await flow.onMailFrom('203.0.113.1'));
      const v = await flow.onMailFrom('203.0.113.1');
      refused(v, 450, '4.7.1', 'perIp.messagesPerMinute');
      assert.match(v.action === 'refuse' ? v.refusal.reply.text : '', /Too many messages from \[203\.0\.113\.1\]/);
      refused(await flow.onMailFrom('203.0.113.9'), 450, '4.7.1', 'perNetwork.messagesPerMinute');
      allowed(await flow.onRcptTo('203.0.113.1'), 'recipients are counted apart');
    });

    withFlow('recipient rate: 450 4.7.1 at RCPT TO, per IP and per network', async (make) => {
      const flow = await make(options({ perIp: { recipientsPerMinute: 3 }, perNetwork: { recipientsPerMinute: 4 } }));
      for (let i = 0; i < 3; i++) allowed(await flow.onRcptTo('2001:db8::1'));
      refused(await flow.onRcptTo('2001:db8::1'), 450, '4.7.1', 'perIp.recipientsPerMinute');
      refused(await flow.onRcptTo('2001:db8::2'), 450, '4.7.1', 'perNetwork.recipientsPerMinute');
      allowed(await flow.onRcptTo('2001:db8:0:1::1'));
    });

    withFlow('limits of 0 are off; non-IP clients are not counted', async (make) => {
      const flow = await make(options());
      for (let i = 0; i < 20; i++) {
        allowed(await flow.onConnect('198.51.100.1', `s${i}`));
        allowed(await flow.onMailFrom('198.51.100.1'));
        allowed(await flow.onRcptTo('198.51.100.1'));
      }
      const limited = await make(options({ perIp: { connections: 1, messagesPerMinute: 1 } }));
      for (const ip of ['', 'unix:/run/x', 'not-an-ip']) {
        allowed(await limited.onConnect(ip, `x${ip}`));
        allowed(await limited.onConnect(ip, `y${ip}`));
      }
    });

    withFlow('two instances on one store enforce ONE limit: the 4th connection across both is refused', async (make) => {
      const o = options({ perIp: { connections: 3 } });
      const a = await make(o);
      const b = await make(o);
      allowed(await a.onConnect('198.51.100.1', 'a1'));
      allowed(await b.onConnect('198.51.100.1', 'b1'));
      allowed(await a.onConnect('198.51.100.1', 'a2'));
      refused(await b.onConnect('198.51.100.1', 'b2'), 421, '4.7.0', 'perIp.connections');
      refused(await a.onConnect('198.51.100.1', 'a3'), 421, '4.7.0', 'perIp.connections');
      await a.onClose('a1');
      allowed(await b.onConnect('198.51.100.1', 'b3'));
    });

    withFlow('two instances share rates, and a burst of connections never passes the limit', async (make) => {
      const o = options({ perIp: { connections: 3, messagesPerMinute: 4 } });
      const a = await make(o);
      const b = await make(o);
      const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).onConnect('192.0.2.50', `burst${i}`)));
      assert.equal(burst.filter((v) => v.action === 'allow').length, 3);
      const mails = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).onMailFrom('192.0.2.50')));
      assert.equal(mails.filter((v) => v.action === 'allow').length, 4);
    });

    withFlow('a connection that closes while it is being admitted keeps no slot', async (make) => {
      const flow = await make(options({ perIp: { connections: 1, connectionsPerMinute: 100 } }));
      const pending = flow.onConnect('198.51.100.9', 'quick');
      await flow.onClose('quick');
      await pending;
      await sleep(20);
      assert.equal(flow.openConnections, 0);
      allowed(await flow.onConnect('198.51.100.9', 'next'));
    });

    withFlow('an invalid network in the lists stops the start', async () => {
      assert.throws(() => new FlowControl({ state: new MemoryState(), options: options({ deny: ['10.0.0.0/33'] }) }), /prefix longer/);
      assert.throws(() => new FlowControl({ state: new MemoryState(), options: options({ allow: ['example.com'] }) }), /not an IPv4 or IPv6/);
    });
  });
}

test('rate windows are per minute: counts start again after one', async () => {
  const clock = { t: 1_000_000 };
  const flow = new FlowControl({ state: new MemoryState({ maxEntries: 100, now: () => clock.t }), options: options({ perIp: { messagesPerMinute: 1, connectionsPerMinute: 1 } }) });
  try {
    allowed(await flow.onMailFrom('192.0.2.1'));
    refused(await flow.onMailFrom('192.0.2.1'), 450, '4.7.1', 'perIp.messagesPerMinute');
    allowed(await flow.onConnect('192.0.2.1', 'a'));
    clock.t += 59_000;
    refused(await flow.onMailFrom('192.0.2.1'), 450, '4.7.1', 'perIp.messagesPerMinute');
    refused(await flow.onConnect('192.0.2.1', 'b'), 421, '4.7.0', 'perIp.connectionsPerMinute');
    clock.t += 1_000;
    allowed(await flow.onMailFrom('192.0.2.1'));
    allowed(await flow.onConnect('192.0.2.1', 'c'));
  } finally {
    await flow.close();
  }
});

test('the defaults are a complete options object', () => {
  const flow = new FlowControl({ state: new MemoryState(), options: DEFAULT_FLOW_OPTIONS });
  void flow.close();
  assert.equal(DEFAULT_FLOW_OPTIONS.perIp.connections, 20);
});

test('a store that fails without saying so: every check fails open, reports, and never throws', async () => {
  const errors: string[] = [];
  const flow = new FlowControl({
    state: brokenState(),
    options: options({ perIp: { connections: 1, connectionsPerMinute: 1, messagesPerMinute: 1, recipientsPerMinute: 1 }, perNetwork: { connections: 1 } }),
    onStateError: (rule) => {
      errors.push(rule);
      throw new Error('a broken hook changes nothing');
    },
  });
  try {
    for (const id of ['a', 'b']) allowed(await flow.onConnect('192.0.2.1', id));
    allowed(await flow.onMailFrom('192.0.2.1'));
    allowed(await flow.onRcptTo('192.0.2.1'));
    await flow.onClose('a');
    assert.deepEqual([...new Set(errors)].sort(), ['connections', 'connectionsPerMinute', 'messagesPerMinute', 'recipientsPerMinute']);
    const denying = new FlowControl({ state: brokenState(), options: options({ deny: ['192.0.2.0/24'] }) });
    refused(await denying.onConnect('192.0.2.1', 'd'), 554, '5.7.1', 'deny'); // the lists need no state
    await denying.close();
  } finally {
    await flow.close();
  }
});

describe('flow control on Redis: crashes and outages', { concurrency: true }, () => {
  test("a crashed replica's slots come back after the lease; a live one's are renewed", { skip: redisSkip }, async () => {
    const states = new RedisStates();
    const o = options({ perIp: { connections: 2 }, leaseSeconds: 1 });
    const crashingState = await states.open();
    const crashing = new FlowControl({ state: crashingState, options: o });
    const living = new FlowControl({ state: await states.open(), options: o });
    const other = new FlowControl({ state: await states.open(), options: o });
    try {
      allowed(await crashing.onConnect('198.51.100.1', 'c1'));
      allowed(await living.onConnect('198.51.100.2', 'l1'));
      allowed(await living.onConnect('198.51.100.2', 'l2'));
      allowed(await crashing.onConnect('198.51.100.1', 'c2'));
      // The crashing replica dies: no close, no renewal (its Redis connection just goes away).
      await crashingState.close();
      refused(await other.onConnect('198.51.100.1', 'o1'), 421, '4.7.0', 'perIp.connections');
      await sleep(1600); // past the lease: renewed every ~333 ms for the living replica only
      allowed(await other.onConnect('198.51.100.1', 'o2'));
      refused(await other.onConnect('198.51.100.2', 'o3'), 421, '4.7.0', 'perIp.connections');
      await living.onClose('l1');
      allowed(await other.onConnect('198.51.100.2', 'o4'));
    } finally {
      await Promise.all([crashing, living, other].map((f) => f.close()));
      await states.close();
    }
  });

  test('Redis stopped: every limit fails open and is reported; after a restart the limits hold again', { skip: redisServerSkip }, async () => {
    const redis = await PrivateRedis.start();
    const errors: string[] = [];
    const state = new RedisState({ url: redis.url, keyPrefix: 'flow-outage:' });
    const o = options({ perIp: { connections: 1, connectionsPerMinute: 100, messagesPerMinute: 1, recipientsPerMinute: 1 }, leaseSeconds: 1 });
    const flow = new FlowControl({ state, options: o, onStateError: (rule) => errors.push(rule) });
    try {
      await healthy(state);
      allowed(await flow.onConnect('192.0.2.1', 'before'));
      refused(await flow.onConnect('192.0.2.1', 'refused'), 421, '4.7.0', 'perIp.connections');

      await redis.stop();
      const t0 = Date.now();
      for (const id of ['down1', 'down2']) allowed(await flow.onConnect('192.0.2.1', id));
      for (let i = 0; i < 3; i++) {
        allowed(await flow.onMailFrom('192.0.2.1'));
        allowed(await flow.onRcptTo('192.0.2.1'));
      }
      await flow.onClose('before'); // the release fails; the lease lapses by itself
      assert.ok(Date.now() - t0 < 2 * 2500 + 500, `failing open took ${Date.now() - t0} ms`);
      for (const rule of ['connectionsPerMinute', 'messagesPerMinute', 'recipientsPerMinute', 'connections']) {
        assert.ok(errors.includes(rule), `onStateError reported ${rule} (got ${[...new Set(errors)].join(', ')})`);
      }

      await redis.start();
      await healthy(state, 8000);
      await sleep(700); // a renewal puts the leases of the connections admitted during the outage in place
      refused(await flow.onConnect('192.0.2.1', 'after'), 421, '4.7.0', 'perIp.connections');
      allowed(await flow.onMailFrom('192.0.2.1'));
      refused(await flow.onMailFrom('192.0.2.1'), 450, '4.7.1', 'perIp.messagesPerMinute');
      await flow.onClose('down1');
      await flow.onClose('down2');
      allowed(await flow.onConnect('192.0.2.1', 'after2'));
    } finally {
      await flow.close();
      await state.close();
      await redis.stop();
    }
  });
});
