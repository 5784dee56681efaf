import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryState, RedisState, type SharedState } from '@portcullis/state';
import { LoginLockout, banSecondsFor, DEFAULT_LOCKOUT_OPTIONS, normalizeUsername, type LockoutOptions, type LockoutVerdict } from '../../src/login/lockout.js';
import { brokenState, healthy, PrivateRedis, RedisStates, redisServerSkip, sharedRedisSkip, TEST_STORES } from '../redis-support.js';

const base: LockoutOptions = {
  maxFailures: 5,
  maxFailuresPerUser: 100,
  windowSeconds: 600,
  banSeconds: 900,
  maxBanSeconds: 86400,
  offenceMemorySeconds: 86400,
  trusted: [],
};

function refused(v: LockoutVerdict, code: number, rule: string): Extract<LockoutVerdict, { action: 'refuse' }> {
  assert.equal(v.action, 'refuse', `expected a refusal by ${rule}`);
  if (v.action !== 'refuse') throw new Error('unreachable');
  assert.equal(v.refusal.reply.code, code);
  assert.equal(v.refusal.reply.enhanced, '4.7.0');
  assert.equal(v.refusal.reason, rule);
  return v;
}

const allowed = (v: LockoutVerdict, message?: string) => assert.deepEqual(v, { action: 'allow' }, message);

async function fail(lockout: LoginLockout, ip: string, n: number, user = 'alice'): Promise<LockoutVerdict[]> {
  const out: LockoutVerdict[] = [];
  for (let i = 0; i < n; i++) out.push(await lockout.recordFailure(ip, user));
  return out;
}

test('ban lengths double per offence, capped', () => {
  const o = { banSeconds: 900, maxBanSeconds: 86400 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => banSecondsFor(n, o)),
    [900, 1800, 3600, 7200, 14400, 28800, 57600, 86400],
  );
  assert.equal(banSecondsFor(1000, o), 86400);
  assert.equal(normalizeUsername('  Alice@Example.ORG '), 'alice@example.org');
  assert.equal(DEFAULT_LOCKOUT_OPTIONS.maxFailures, 5);
});

const stores = TEST_STORES;

const redisSkip = await sharedRedisSkip();

for (const [kind, makeStore] of Object.entries(stores)) {
  describe(`AUTH lockout on ${kind} state`, { concurrency: true, skip: kind === 'redis' ? redisSkip : false }, () => {
    const withLockout = (title: string, fn: (make: (o: LockoutOptions, exempt?: string[]) => Promise<LoginLockout>) => Promise<void>) =>
      void test(title, async () => {
        const store = makeStore();
        try {
          await fn(async (o, exempt) => new LoginLockout({ state: await store.state(), options: o, ...(exempt ? { exempt } : {}) }));
        } finally {
          await store.close();
        }
      });

    withLockout('the failure that reaches maxFailures bans the IP: 421 4.7.0 at connect and at AUTH', async (make) => {
      const lockout = await make(base);
      const verdicts = await fail(lockout, '198.51.100.1', 5);
      for (const v of verdicts.slice(0, 4)) allowed(v);
      const v = refused(verdicts[4]!, 421, 'lockout.ban');
      assert.equal(v.ban?.offences, 1);
      assert.equal(v.ban?.seconds, 900);
      assert.equal(v.ban?.reason, 'ip-failures');
      assert.match(v.refusal.reply.text, /Too many failed authentication attempts from \[198\.51\.100\.1\].*15 minutes/);
      const c = refused(await lockout.checkConnect('198.51.100.1'), 421, 'lockout.banned');
      assert.match(c.refusal.reply.text, /198\.51\.100\.1/);
      refused(await lockout.checkLoginAllowed('::ffff:198.51.100.1'), 421, 'lockout.banned');
      assert.equal((await lockout.isBanned('198.51.100.1'))?.ip, '198.51.100.1');
      allowed(await lockout.checkConnect('198.51.100.2'));
      allowed(await lockout.checkLoginAllowed('198.51.100.2'));
    });

    withLockout('failures for one username from many IPs ban each IP past maxFailuresPerUser (case-insensitive)', async (make) => {
      const lockout = await make({ ...base, maxFailuresPerUser: 3 });
      allowed(await lockout.recordFailure('203.0.113.1', 'Alice'));
      allowed(await lockout.recordFailure('203.0.113.2', 'ALICE'));
      const v = refused(await lockout.recordFailure('203.0.113.3', ' alice '), 421, 'lockout.ban');
      assert.equal(v.ban?.reason, 'user-failures');
      refused(await lockout.recordFailure('203.0.113.4', 'alice'), 421, 'lockout.ban');
      allowed(await lockout.recordFailure('203.0.113.5', 'bob'), 'other users are not affected');
      allowed(await lockout.checkLoginAllowed('203.0.113.1'), 'IPs that failed before the threshold are not banned');
      refused(await lockout.checkLoginAllowed('203.0.113.4'), 421, 'lockout.banned');
    });

    withLockout("two instances count together and see each other's bans", async (make) => {
      const a = await make(base);
      const b = await make(base);
      await fail(a, '192.0.2.1', 2);
      await fail(b, '192.0.2.1', 2);
      allowed(await b.checkConnect('192.0.2.1'));
      refused((await fail(a, '192.0.2.1', 1))[0]!, 421, 'lockout.ban');
      refused(await b.checkConnect('192.0.2.1'), 421, 'lockout.banned');
      refused(await b.checkLoginAllowed('192.0.2.1'), 421, 'lockout.banned');
    });

    withLockout('simultaneous threshold crossings on two instances make one offence, not two', async (make) => {
      const a = await make({ ...base, maxFailures: 2 });
      const b = await make({ ...base, maxFailures: 2 });
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).recordFailure('192.0.2.77', `user${i}`)));
      assert.ok(got.some((v) => v.action === 'refuse'));
      const bans = await a.listBans();
      assert.equal(bans.length, 1);
      assert.equal(bans[0]!.offences, 1);
      assert.equal(bans[0]!.seconds, 900);
    });

    withLockout('trusted networks and the allow list are never counted nor banned', async (make) => {
      const lockout = await make({ ...base, maxFailures: 1, maxFailuresPerUser: 1, trusted: ['10.0.0.0/8'] }, ['2001:db8:cafe::/48']);
      for (const ip of ['10.9.9.9', '::ffff:10.9.9.9', '2001:db8:cafe::1']) {
        for (const v of await fail(lockout, ip, 5)) allowed(v);
        allowed(await lockout.checkConnect(ip));
        allowed(await lockout.checkLoginAllowed(ip));
        assert.equal(await lockout.isBanned(ip), null);
        assert.equal(lockout.isExempt(ip), true);
      }
      assert.deepEqual(await lockout.listBans(), []);
      refused(await lockout.recordFailure('192.0.2.1', 'x'), 421, 'lockout.ban');
    });

    withLockout("listBans shows every ban for the operator; liftBan ends one and forgets the IP's past", async (make) => {
      const lockout = await make({ ...base, maxFailures: 1 });
      await lockout.recordFailure('192.0.2.1', 'a');
      await lockout.recordFailure('2001:db8::1', 'b');
      const bans = await lockout.listBans();
      assert.deepEqual(bans.map((b) => b.ip).sort(), ['192.0.2.1', '2001:db8::1']);
      for (const b of bans) {
        assert.ok(b.remainingSeconds > 890 && b.remainingSeconds <= 900, `remaining ${b.remainingSeconds}`);
        assert.ok(Date.parse(b.until) > Date.parse(b.since));
        assert.match(b.id, /^[0-9a-f-]{36}$/);
      }
      assert.equal(await lockout.liftBan('::ffff:192.0.2.1'), true);
      assert.equal(await lockout.liftBan('192.0.2.1'), false);
      allowed(await lockout.checkConnect('192.0.2.1'));
      assert.deepEqual(
        (await lockout.listBans()).map((b) => b.ip),
        ['2001:db8::1'],
      );
      const again = refused(await lockout.recordFailure('192.0.2.1', 'a'), 421, 'lockout.ban');
      assert.equal(again.ban?.offences, 1, 'a lifted ban is not held against the IP');
    });
  });
}

test('repeat offences ban longer, up to the cap; offences and bans expire by themselves (memory, fake clock)', async () => {
  const clock = { t: 1_700_000_000_000 };
  const state = new MemoryState({ maxEntries: 1000, now: () => clock.t });
  const lockout = new LoginLockout({ state, options: { ...base, maxFailures: 2, banSeconds: 60, maxBanSeconds: 200, offenceMemorySeconds: 3600 }, now: () => clock.t });
  const seconds: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [, v] = await fail(lockout, '192.0.2.1', 2);
    const r = refused(v!, 421, 'lockout.ban');
    seconds.push(r.ban!.seconds);
    clock.t += r.ban!.seconds * 1000 - 1;
    refused(await lockout.checkConnect('192.0.2.1'), 421, 'lockout.banned');
    clock.t += 1;
    allowed(await lockout.checkConnect('192.0.2.1'), 'the ban expired by itself');
  }
  assert.deepEqual(seconds, [60, 120, 200, 200]);
  clock.t += 3600_000; // an hour without a ban: the offences are forgotten
  const [, v] = await fail(lockout, '192.0.2.1', 2);
  assert.equal(refused(v!, 421, 'lockout.ban').ban?.seconds, 60);
});

test('failures older than the window are forgotten (memory, fake clock)', async () => {
  const clock = { t: 1_700_000_000_000 };
  const lockout = new LoginLockout({
    state: new MemoryState({ maxEntries: 1000, now: () => clock.t }),
    options: { ...base, maxFailures: 3, windowSeconds: 600 },
    now: () => clock.t,
  });
  await fail(lockout, '192.0.2.1', 2);
  clock.t += 600_000;
  for (const v of await fail(lockout, '192.0.2.1', 2)) allowed(v);
  refused((await fail(lockout, '192.0.2.1', 1))[0]!, 421, 'lockout.ban');
});

test('a store that fails without saying so: AUTH refused 454, connections allowed, nothing throws', async () => {
  const errors: string[] = [];
  const lockout = new LoginLockout({ state: brokenState(), options: base, onStateError: (op) => errors.push(op) });
  allowed(await lockout.checkConnect('192.0.2.1'));
  refused(await lockout.checkLoginAllowed('192.0.2.1'), 454, 'lockout.unavailable');
  allowed(await lockout.recordFailure('192.0.2.1', 'alice'));
  await assert.rejects(lockout.listBans(), /connection lost/, 'operator calls report the failure');
  await assert.rejects(lockout.liftBan('192.0.2.1'), /connection lost/);
  assert.deepEqual(errors, ['connect', 'auth', 'failure']);
});

describe('AUTH lockout on Redis: expiry and outages', { concurrency: true }, () => {
  test('bans expire in Redis and the next ban is longer', { skip: redisSkip }, async () => {
    const states = new RedisStates();
    const lockout = new LoginLockout({ state: await states.open(), options: { ...base, maxFailures: 1, banSeconds: 1, maxBanSeconds: 4 } });
    try {
      assert.equal(refused(await lockout.recordFailure('192.0.2.1', 'a'), 421, 'lockout.ban').ban?.seconds, 1);
      await sleep(1100);
      allowed(await lockout.checkLoginAllowed('192.0.2.1'));
      const second = refused(await lockout.recordFailure('192.0.2.1', 'a'), 421, 'lockout.ban');
      assert.equal(second.ban?.seconds, 2);
      assert.equal(second.ban?.offences, 2);
      const [listed] = await lockout.listBans();
      assert.ok(listed && listed.remainingSeconds >= 1 && listed.remainingSeconds <= 2, `remaining ${listed?.remainingSeconds}`);
    } finally {
      await states.close();
    }
  });

  test('Redis stopped: AUTH fails closed (454 4.7.0), connections are not refused; recovery after a restart', { skip: redisServerSkip }, async () => {
    const redis = await PrivateRedis.start();
    const errors: string[] = [];
    const state = new RedisState({ url: redis.url, keyPrefix: 'lockout-outage:' });
    const lockout = new LoginLockout({ state, options: { ...base, maxFailures: 2, trusted: ['10.0.0.0/8'] }, onStateError: (op) => errors.push(op) });
    try {
      await healthy(state);
      await fail(lockout, '192.0.2.66', 2);
      refused(await lockout.checkConnect('192.0.2.66'), 421, 'lockout.banned');

      await redis.stop();
      const t0 = Date.now();
      allowed(await lockout.checkConnect('192.0.2.1'), 'an MX connection is not refused for want of Redis');
      allowed(await lockout.checkConnect('192.0.2.66'), 'not even a banned one: the ban cannot be read');
      const v = refused(await lockout.checkLoginAllowed('192.0.2.1'), 454, 'lockout.unavailable');
      assert.match(v.refusal.reply.text, /Temporary authentication failure/);
      allowed(await lockout.recordFailure('192.0.2.1', 'a'), 'a failure that cannot be counted is answered as usual');
      allowed(await lockout.checkLoginAllowed('10.1.1.1'), 'trusted networks need no state');
      assert.ok(Date.now() - t0 < 4 * 2500, `took ${Date.now() - t0} ms`);
      for (const op of ['connect', 'auth', 'failure']) assert.ok(errors.includes(op), `onStateError reported ${op} (got ${errors.join(', ')})`);
      await assert.rejects(lockout.isBanned('192.0.2.1'), 'isBanned itself reports the failure');

      await redis.start(); // empty: the ban did not survive (no persistence in this test)
      await healthy(state, 8000);
      allowed(await lockout.checkLoginAllowed('192.0.2.1'));
      allowed(await lockout.recordFailure('192.0.2.1', 'a'));
      refused(await lockout.recordFailure('192.0.2.1', 'a'), 421, 'lockout.ban');
      refused(await lockout.checkConnect('192.0.2.1'), 421, 'lockout.banned');
    } finally {
      await state.close();
      await redis.stop();
    }
  });
});
