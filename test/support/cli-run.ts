import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/** The `portcullis` command's entry (bin/portcullis runs it on Node 24; it refuses older Node itself). */
export const ENTRY = join(ROOT, 'apps', 'portcullis', 'dist', 'src', 'portcullis.js');

/**
 * Runs the CLI without blocking this process (servers the test runs here keep answering), and
 * gives its exit code and output whether it succeeded or not.
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [ENTRY, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
