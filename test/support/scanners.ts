import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/** The real clamd and rspamd that test/infra/{clamav,rspamd}.sh run (scripts/test.sh exports where). */
export { TEST_CLAMD as CLAMD, TEST_RSPAMD as RSPAMD } from '@portcullis/content/testing';

export type Daemon = 'clamav' | 'rspamd';

/** Stop or start the real daemon with its own script (the same one `make test` uses). */
export function daemon(name: Daemon, command: 'start' | 'stop'): void {
  execFileSync('bash', [join(ROOT, 'test', 'infra', `${name}.sh`), command], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
}

/** Freeze (SIGSTOP) or thaw (SIGCONT) the running daemon: it keeps its socket open but answers nothing. */
export function freeze(name: Daemon, frozen: boolean): void {
  const pid = Number(readFileSync(join(ROOT, '.tools', 'run', `${name}.pid`), 'utf8').trim());
  process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
}

/** EICAR, put together at run time so no file in the repository is itself the test virus. */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

/** A message with EICAR as a base64 attachment. */
export function eicarMessage(subject: string): Buffer {
  return Buffer.from(
    [
      'From: Sender <sender@sender.test>',
      'To: Postmaster <postmaster@example.test>',
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'See the attachment.',
      '--b1',
      'Content-Type: application/octet-stream; name="test.txt"',
      'Content-Disposition: attachment; filename="test.txt"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(EICAR, 'latin1').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n'),
  );
}
