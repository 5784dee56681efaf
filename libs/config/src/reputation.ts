import { z } from 'zod';

/** DNSBL/DNSWL at connect, URIBL on content, allow and block lists, sender history. */
const Reputation = z.strictObject({});

export const reputationSections = {
  reputation: Reputation.prefault({}),
};
