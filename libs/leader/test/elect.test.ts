import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseConfig } from '@portcullis/config';
import { alwaysLeader, electLeader, kubeLeaseStore, leadershipFor, type Leadership } from '../src/index.js';

// The real API server that scripts/test.sh starts (test/infra/kube/apiserver.sh); skipped only when it was not built.
const kubeconfig = process.env.PORTCULLIS_TEST_KUBECONFIG;
const noApiServer = !kubeconfig || !existsSync(kubeconfig) ? 'no API server (test/infra/kube/apiserver.sh did not start one)' : false;

function kc(): KubeConfig {
  const k = new KubeConfig();
  k.loadFromFile(kubeconfig!);
  return k;
}

async function namespace(name: string): Promise<string> {
  await kc()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name } } })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  return name;
}

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('embedded: always leader, and says so', async () => {
  const l = alwaysLeader();
  const seen: boolean[] = [];
  l.onChange((v) => seen.push(v));
  await new Promise((r) => setImmediate(r));
  assert.equal(l.isLeader(), true);
  assert.deepEqual(seen, [true]);
  const config = parseConfig({ domains: [{ name: 'example.com' }] });
  assert.equal(leadershipFor(config, 'quarantine-expiry').isLeader(), true);
});

test('two replicas on one real Lease: exactly one leads; when it stops the other takes over at once', { skip: noApiServer }, async () => {
  const ns = await namespace(`leader-${Date.now()}`);
  const store = kubeLeaseStore(kc(), ns, 'portcullis-quarantine-expiry');
  const make = (identity: string) => electLeader({ identity, store, leaseDurationSeconds: 4, renewIntervalSeconds: 1 });
  const a = make('relay-a');
  const b = make('relay-b');
  const all: Leadership[] = [a, b];
  try {
    await until('a leader', () => a.isLeader() || b.isLeader());
    await a.tick();
    await b.tick();
    assert.equal([a, b].filter((x) => x.isLeader()).length, 1, 'exactly one leader');
    const [leader, other] = a.isLeader() ? [a, b] : [b, a];
    const record = await store.get();
    assert.equal(record?.holder, leader === a ? 'relay-a' : 'relay-b');
    const t0 = Date.now();
    await leader.stop();
    assert.equal((await store.get())?.holder, null, 'released');
    await until('the other to take over', () => other.isLeader());
    assert.ok(Date.now() - t0 < 2500, 'a released lease is taken without waiting for it to expire');
    assert.equal((await store.get())?.transitions, 1);
  } finally {
    for (const l of all) await l.stop();
  }
});

test('a holder that stopped renewing (crashed) loses the lease after leaseDuration', { skip: noApiServer }, async () => {
  const ns = await namespace(`leader-crash-${Date.now()}`);
  const store = kubeLeaseStore(kc(), ns, 'portcullis-digests');
  // The crashed replica's last renewal, written as it would have left it.
  await store.create({ holder: 'relay-crashed', leaseDurationSeconds: 2, acquireTime: new Date(), renewTime: new Date(), transitions: 0 });
  const b = electLeader({ identity: 'relay-b', store, leaseDurationSeconds: 2, renewIntervalSeconds: 1 });
  try {
    const t0 = Date.now();
    await b.tick();
    assert.equal(b.isLeader(), false, 'not while the lease may still be held');
    await until('takeover', () => b.isLeader(), 8000);
    assert.ok(Date.now() - t0 >= 2000, 'not before leaseDuration has passed on our clock');
    assert.equal((await store.get())?.holder, 'relay-b');
  } finally {
    await b.stop();
  }
});

test('an API server that stops answering makes the leader step down before its lease can expire', async () => {
  // A fault that a real API server cannot be made to produce on demand: a store whose calls fail (named as such).
  let failing = false;
  let record: Awaited<ReturnType<ReturnType<typeof kubeLeaseStore>['get']>> = null;
  const flakyStore = {
    get: async () => {
      if (failing) throw new Error('connect ECONNREFUSED');
      return record;
    },
    create: async (r: NonNullable<typeof record>) => (record = { ...r, resourceVersion: '1' }),
    replace: async (r: NonNullable<typeof record>) => {
      if (failing) throw new Error('connect ECONNREFUSED');
      return (record = { ...r, resourceVersion: String(Number(r.resourceVersion) + 1) });
    },
  };
  let clock = 0;
  const errors: string[] = [];
  const l = electLeader({ identity: 'relay-a', store: flakyStore, leaseDurationSeconds: 10, renewIntervalSeconds: 2, now: () => clock, onError: (e) => errors.push(e.message) });
  try {
    await l.tick();
    assert.equal(l.isLeader(), true);
    failing = true;
    clock = 5000;
    await l.tick();
    assert.equal(l.isLeader(), true, 'one failed renewal with time left on the lease');
    clock = 8000;
    await l.tick();
    assert.equal(l.isLeader(), false, 'stepped down: the lease may run out before the next renewal');
    assert.ok(errors.length >= 2);
  } finally {
    await l.stop();
  }
});
