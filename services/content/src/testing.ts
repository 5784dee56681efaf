/**
 * Building the content stage in tests (`@portcullis/content/testing`, never imported by service
 * code): the test engines' addresses (test/infra clamav.sh and rspamd.sh, moved by
 * PORTCULLIS_TEST_PORT_OFFSET through the env), a config with the content section given, and one
 * record through the whole stage step (scan and verdict) with a scanner of its own.
 */
import { parseConfig, type Config } from '@portcullis/config';
import type { MailRecord } from '@portcullis/contract';
import { createRegistry } from '@portcullis/telemetry';
import { contentStep } from './index.js';
import { contentMetrics, type ContentMetrics } from './metrics.js';
import { createScanner } from './scan.js';

export const TEST_CLAMD = process.env.PORTCULLIS_TEST_CLAMD || 'tcp://127.0.0.1:13310';
export const TEST_RSPAMD = process.env.PORTCULLIS_TEST_RSPAMD || 'http://127.0.0.1:11333';

/** The config an operator would write, with the content section given as YAML-ish JSON. */
export function contentConfig(content: Record<string, unknown> = {}, more: Record<string, unknown> = {}): Config {
  return parseConfig({ hostname: 'mx.test', domains: [{ name: 'example.test' }], content, ...more });
}

/** One record through scan and verdict; the metrics (a registry of its own unless given) show what ran. */
export async function decideOnce(config: Config, record: MailRecord, metrics: ContentMetrics = contentMetrics(createRegistry())): Promise<MailRecord> {
  const scanner = createScanner(config, { metrics });
  try {
    return await contentStep(scanner, config, record, metrics);
  } finally {
    await scanner.close();
  }
}
