import type { CheckResult, MailMeta } from '@portcullis/contract';
import type { Config } from '@portcullis/config';
import type { ParsedMessage } from '@portcullis/message';

export type ContentConfig = Config['content'];

/** What every content check sees of one message. */
export interface ScanContext {
  meta: MailMeta;
  raw: Buffer;
  parsed: ParsedMessage;
  config: ContentConfig;
  /** Domains we accept mail for (the config's domains): mail from them is not "external". */
  localDomains: string[];
  /** Sent by an authenticated user of ours (submission): the outbound policy applies. */
  outbound: boolean;
  now: Date;
}

export type ContentCheck = (ctx: ScanContext) => Promise<CheckResult[]> | CheckResult[];
