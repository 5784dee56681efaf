import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseConfig } from '@portcullis/config';
import { leadershipFor } from '@portcullis/leader';
import { renderText, valuesFile } from '../chart/helm.js';
import { adminConfig, apply, ensureNamespace, installCrds, noApiServer, serviceAccountToken, tokenConfig, yamlObjects } from './cluster.js';

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test("the relay's service account, with only the chart's RBAC, wins the Lease; the edge's may not touch Leases", { skip: noApiServer }, async () => {
  const admin = adminConfig();
  await installCrds(admin);
  const ns = await ensureNamespace(admin, `rbac-${Date.now()}`);
  // The chart applied for real (not a dry run), without the helm test hooks.
  const objects = yamlObjects(renderText(['-f', valuesFile('minimal'), '--skip-tests', '--namespace', ns]));
  for (const o of objects) assert.equal(await apply(admin, o, { namespace: ns }), null);
  const config = parseConfig({
    domains: [{ name: 'example.com' }],
    kubernetes: { leaderElection: { enabled: true, namespace: ns, leaseDurationSeconds: 4, renewIntervalSeconds: 1 } },
  });

  const relay = tokenConfig(await serviceAccountToken(admin, ns, 'mx-portcullis-relay'));
  const relayErrors: string[] = [];
  const leader = leadershipFor(config, 'relay-jobs', { identity: 'mx-portcullis-relay-0', kubeConfig: relay, onError: (e) => relayErrors.push(e.message) });
  const edgeErrors: string[] = [];
  const edge = tokenConfig(await serviceAccountToken(admin, ns, 'mx-portcullis-edge'));
  const intruder = leadershipFor(config, 'relay-jobs', { identity: 'mx-portcullis-edge-0', kubeConfig: edge, onError: (e) => edgeErrors.push(e.message) });
  try {
    await until('the relay to lead', () => leader.isLeader()).catch((e: Error) => {
      throw new Error(`${e.message}: ${relayErrors.join('; ')}`);
    });
    await until('the edge to be refused', () => edgeErrors.length > 0);
    assert.equal(intruder.isLeader(), false);
    assert.match(edgeErrors[0]!, /403/);
    assert.deepEqual(relayErrors, []);
    // Only its own Lease: electing on another name is refused on the read.
    const otherErrors: string[] = [];
    const other = leadershipFor(config, 'other-job', { identity: 'mx-portcullis-relay-0', kubeConfig: relay, onError: (e) => otherErrors.push(e.message) });
    try {
      await until('another Lease to be refused', () => otherErrors.length > 0);
      assert.equal(other.isLeader(), false);
      assert.match(otherErrors[0]!, /403/);
    } finally {
      await other.stop();
    }
    // Leases only: the relay's identity cannot read Secrets.
    await assert.rejects(relay.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns }), (e: { code?: number }) => e.code === 403);
  } finally {
    await leader.stop();
    await intruder.stop();
  }
});
