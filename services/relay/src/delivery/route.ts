import type { Config, DownstreamConfig } from '@portcullis/config';
import { domainOf } from '@portcullis/contract';

/**
 * A recipient outside the accepted domains that goes to the local Maildir only because there is
 * no relay.outbound.smarthost (bounces to outside senders, for one): nobody will read it there.
 */
export function outsideWithoutSmarthost(config: Config, rcpt: string): boolean {
  const domain = domainOf(rcpt);
  return !config.relay.outbound?.smarthost && !config.domains.some((d) => d.name === domain);
}

export type Route = { kind: 'smtp'; downstream: DownstreamConfig } | { kind: 'maildir'; root: string };

/** relay.route: recipients grouped by where they go, one delivery per group. */
export function routeRecipients(config: Config, recipients: string[]): Map<string, { route: Route; recipients: string[] }> {
  const byDomain = new Map(config.domains.map((d) => [d.name, d]));
  const groups = new Map<string, { route: Route; recipients: string[] }>();
  for (const rcpt of recipients) {
    const domain = domainOf(rcpt);
    const d = byDomain.get(domain);
    const outbound = config.relay.outbound?.smarthost;
    const route: Route = d?.downstream
      ? { kind: 'smtp', downstream: d.downstream }
      : d || !outbound
        ? { kind: 'maildir', root: config.relay.maildir }
        : { kind: 'smtp', downstream: outbound };
    const k = route.kind === 'smtp' ? `smtp:${route.downstream.host}:${route.downstream.port}:${route.downstream.tls}` : `maildir:${route.root}`;
    const g = groups.get(k) ?? { route, recipients: [] };
    g.recipients.push(rcpt);
    groups.set(k, g);
  }
  return groups;
}
