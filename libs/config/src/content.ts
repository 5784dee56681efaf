import { z } from 'zod';

/** Content scanning (ClamAV, rspamd, attachment and phishing rules) and the verdict policy. */
const Content = z.strictObject({});

export const contentSections = {
  content: Content.prefault({}),
};
