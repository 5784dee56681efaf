import { z } from 'zod';

/** Sender authentication (auth service): SPF, DKIM, DMARC, ARC, BIMI and their policy. Not SMTP AUTH, which is `auth`. */
const Authentication = z.strictObject({});

export const authenticationSections = {
  authentication: Authentication.prefault({}),
};
