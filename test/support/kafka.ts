import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const run = promisify(execFile);

/** Stops or starts the real test broker through the same script `make test` uses. */
export async function kafkaCtl(action: 'start' | 'stop'): Promise<void> {
  await run('bash', [join(ROOT, 'test', 'infra', 'kafka.sh'), action], { cwd: ROOT, timeout: 180_000 });
}
