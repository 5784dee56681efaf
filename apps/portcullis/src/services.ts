import { loadExtraChecks, type ExtraCheck } from '@portcullis/bus';
import { MessageTraceWriter } from '@portcullis/message-trace';
import { dnsOf, type ServiceDeps } from '@portcullis/service';
import { startEdge } from '@portcullis/edge';
import { startAuth } from '@portcullis/auth';
import { startReputation } from '@portcullis/reputation';
import { startContent } from '@portcullis/content';
import { startRelay } from '@portcullis/relay';
import { leadershipFor } from '@portcullis/leader';

export const SERVICES = ['edge', 'auth', 'reputation', 'content', 'relay'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Stages that cannot do their work without Redis (not ready while it is gone): reputation's sender
 * history, content's verdict replies, the relay's fate and de-duplication. Auth keeps only a DNS
 * cache there; the edge answers 451 by itself.
 */
export const needsRedis = (name: ServiceName): boolean => name === 'reputation' || name === 'content' || name === 'relay';

export interface Running {
  name: ServiceName;
  stop(): Promise<void>;
  unhealthy(): string | null;
}

/** What every service is started with; dns is made once for the process (dnsOf) and shared. */
export type Deps = ServiceDeps;

/**
 * What a checking stage (auth, reputation, content) gets beside its own deps: the operator's
 * extra checks for it (stages.extraChecks) and the message trace, where a record given up on
 * over its budget is written with the reason.
 */
async function stageDeps(
  name: 'auth' | 'reputation' | 'content',
  deps: Deps,
): Promise<{ extras: { extraChecks: ExtraCheck[]; trace: MessageTraceWriter }; close(): Promise<void> }> {
  const extra = await loadExtraChecks(name, deps.config.stages.extraChecks, deps.config.stages, deps);
  const trace = new MessageTraceWriter({ state: deps.state, logger: deps.logger, registry: deps.registry, options: deps.config.messageTrace });
  return { extras: { extraChecks: extra.checks, trace }, close: () => extra.close() };
}

/** Stops a stage, then what was started for it. */
const stopBoth = (s: { stop(): Promise<void> }, more: { close(): Promise<void> }) => async () => {
  await s.stop();
  await more.close();
};

/**
 * Starts one service on the given bus and state. Consumers start before the
 * edge so that in embedded mode nothing is accepted that has nowhere to go.
 */
export async function startService(name: ServiceName, deps: Deps): Promise<Running> {
  const ok = () => null;
  switch (name) {
    case 'edge': {
      // The reputation allow list exempts clients from the edge's connect DNSBLs too.
      const edge = await startEdge({ ...deps, dns: dnsOf(deps), dnsblExempt: deps.config.reputation.allow.ips });
      return { name, stop: () => edge.stop(), unhealthy: () => edge.unhealthy() };
    }
    case 'auth': {
      const more = await stageDeps(name, deps);
      const s = await startAuth({ ...deps, ...more.extras, dns: dnsOf(deps) });
      return { name, stop: stopBoth(s, more), unhealthy: ok };
    }
    case 'reputation': {
      const more = await stageDeps(name, deps);
      const s = await startReputation({ ...deps, ...more.extras, dns: dnsOf(deps) });
      return { name, stop: stopBoth(s, more), unhealthy: ok };
    }
    case 'content': {
      const more = await stageDeps(name, deps);
      const s = await startContent({ ...deps, ...more.extras });
      return { name, stop: stopBoth(s, more), unhealthy: ok };
    }
    case 'relay': {
      // Singleton jobs (digests) run on the replica holding the Lease; always here in embedded mode.
      const leadership = leadershipFor(deps.config, 'relay-jobs', {
        onError: (err) => deps.logger.warn({ err: err.message }, 'leader election: the Lease could not be read or renewed'),
      });
      leadership.onChange((leader) => deps.logger.info({ leader }, leader ? 'leading the relay singleton jobs' : 'no longer leading the relay singleton jobs'));
      const s = await startRelay({ ...deps, isLeader: () => leadership.isLeader() });
      return {
        name,
        stop: async () => {
          await s.stop();
          await leadership.stop();
        },
        unhealthy: ok,
      };
    }
  }
}
