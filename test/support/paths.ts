import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Repository root, from test/dist/support/paths.js. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'apps', 'portcullis', 'dist', 'src', 'main.js');

/** The test infrastructure started by test/infra/*.sh (see the Makefile). */
export const KAFKA_BROKERS = (process.env.PORTCULLIS_TEST_KAFKA ?? '127.0.0.1:19092').split(',');
export const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS || 'redis://127.0.0.1:16379';
/** The test DNS server (test/infra/dns.sh): every gateway a test starts resolves there, never on the Internet. */
export const DNS_SERVER = process.env.PORTCULLIS_TEST_DNS || `127.0.0.1:${15353 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET || 0)}`;
