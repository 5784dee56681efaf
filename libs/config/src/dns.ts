import { z } from 'zod';

/** The DNS layer every service shares: servers, timeouts, caches. */
const Dns = z.strictObject({});

export const dnsSections = {
  dns: Dns.prefault({}),
};
