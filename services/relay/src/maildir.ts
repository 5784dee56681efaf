import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';

/** A recipient address as a directory name that cannot climb out of the Maildir root. */
export function mailboxDirName(address: string): string {
  return address.replace(/[/\\\0]/g, '_').replace(/^\.+/, '_');
}

/**
 * relay.maildir: writes the message into <root>/<recipient>/new the Maildir
 * way (write in tmp, rename into new), so a reader never sees half a file.
 * Only for trying Portcullis out without a mailbox server.
 */
export async function deliverToMaildir(root: string, recipient: string, messageId: string, raw: Buffer): Promise<string> {
  const box = join(root, mailboxDirName(recipient));
  await Promise.all(['tmp', 'new', 'cur'].map((d) => mkdir(join(box, d), { recursive: true })));
  // Unique per message and recipient, so re-delivering after a crash overwrites instead of duplicating.
  const name = `${Date.now()}.${messageId}.${hostname().replace(/[/:]/g, '_')}`;
  const tmp = join(box, 'tmp', name);
  await writeFile(tmp, raw, { flag: 'w' });
  const final = join(box, 'new', `${messageId}.eml`);
  await rename(tmp, final);
  return final;
}
