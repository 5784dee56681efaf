import { domainOf } from '@portcullis/contract';
import type { Config } from '@portcullis/config';

export type Policy = Config['content']['policy'];
export interface Thresholds {
  tag: number;
  quarantine: number;
  reject: number;
}

/** The policy a message gets when the config says nothing: the schema's defaults. */
export const DEFAULT_POLICY: Policy = {
  thresholds: { tag: 6, quarantine: 10, reject: 15 },
  domains: {},
  recipients: {},
  subjectPrefix: '[SPAM]',
  outbound: { hold: 6 },
  externalTagging: {},
};

/** One recipient's thresholds: global, then its domain's, then its own address's. */
export function recipientThresholds(policy: Policy, recipient: string): Thresholds {
  const address = recipient.toLowerCase();
  const domain = domainOf(address);
  const pick = <K extends keyof Thresholds>(k: K): number => policy.recipients[address]?.[k] ?? policy.domains[domain]?.[k] ?? policy.thresholds[k];
  return { tag: pick('tag'), quarantine: pick('quarantine'), reject: pick('reject') };
}

/**
 * A message has one verdict for all its recipients, so it gets the strictest thresholds
 * among them: a recipient who asked for stricter filtering is never given a laxer one
 * because someone else was on the same envelope.
 */
export function messageThresholds(policy: Policy, recipients: string[]): Thresholds {
  const all = recipients.map((r) => recipientThresholds(policy, r));
  return {
    tag: Math.min(...all.map((t) => t.tag)),
    quarantine: Math.min(...all.map((t) => t.quarantine)),
    reject: Math.min(...all.map((t) => t.reject)),
  };
}

/** The external-mail tagging that applies: the first recipient domain that asks for it. */
export function externalTagFor(policy: Policy, recipients: string[]): Policy['externalTagging'][string] | undefined {
  for (const r of recipients) {
    const t = policy.externalTagging[domainOf(r)];
    if (t) return t;
  }
  return undefined;
}
