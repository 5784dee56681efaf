import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Repository root, from test/dist/support/paths.js. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'apps', 'portcullis', 'dist', 'src', 'main.js');

/** The test infrastructure started by test/infra/*.sh (see the Makefile). */
export const KAFKA_BROKERS = (process.env.PORTCULLIS_TEST_KAFKA ?? '127.0.0.1:19092').split(',');
export const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS || 'redis://127.0.0.1:16379';
