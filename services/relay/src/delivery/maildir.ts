import { chmod, mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { ADDRESS_LIMITS } from '@portcullis/contract';

/** Folders and files hold other people's mail: only the gateway's user may read them. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** A recipient address as a directory name that cannot climb out of the Maildir root. */
export function mailboxDirName(address: string): string {
  return address.replace(/[/\\\0]/g, '_').replace(/^\.+/, '_');
}

/** A recipient the Maildir can never take: delivering again would not help (a permanent failure, not 5 days of retries). */
export class MaildirRefusal extends Error {}

/** What a Maildir failure means for the recipient: ours to retry, or never storable. */
export function maildirFailure(err: unknown): 'permanent' | 'temporary' {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return err instanceof MaildirRefusal || code === 'ENAMETOOLONG' ? 'permanent' : 'temporary';
}

/** mkdir's mode is cut by the process umask, and an existing folder keeps its old mode: chmod says it exactly. */
async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
  await chmod(path, DIR_MODE);
}

// The host part of a tmp name, bounded so the whole name stays one short file name.
const host = hostname()
  .replace(/[^A-Za-z0-9.-]/g, '_')
  .slice(0, 64);

/**
 * relay.maildir: writes the message into <root>/<recipient>/new the Maildir
 * way (write in tmp, rename into new), so a reader never sees half a file.
 * Only for trying Portcullis out without a mailbox server. The edge refuses
 * at RCPT any address longer than ADDRESS_LIMITS allow, which is what keeps
 * the folder name within one file name; the check here is the last guard.
 */
export async function deliverToMaildir(root: string, recipient: string, messageId: string, raw: Buffer): Promise<string> {
  const name = mailboxDirName(recipient);
  if (Buffer.byteLength(name) > ADDRESS_LIMITS.fileNameOctets) {
    throw new MaildirRefusal(`recipient is ${Buffer.byteLength(name)} octets, longer than a file name (${ADDRESS_LIMITS.fileNameOctets})`);
  }
  const box = join(root, name);
  // The root may be the operator's (only created here when missing); the mailbox is ours.
  await mkdir(root, { recursive: true, mode: DIR_MODE });
  await privateDir(box);
  await Promise.all(['tmp', 'new', 'cur'].map((d) => privateDir(join(box, d))));
  // Unique per message and recipient, so re-delivering after a crash overwrites instead of duplicating.
  const tmp = join(box, 'tmp', `${Date.now()}.${messageId}.${host}`);
  await writeFile(tmp, raw, { flag: 'w', mode: FILE_MODE });
  await chmod(tmp, FILE_MODE);
  const final = join(box, 'new', `${messageId}.eml`);
  await rename(tmp, final);
  return final;
}
