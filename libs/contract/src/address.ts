/**
 * Recipient addresses as every service stores and compares them: the one place that says how long
 * an address may be and which form of it names a mailbox.
 *
 * The limits are RFC 5321 4.5.3.1 (counted in octets, also for UTF-8 addresses: RFC 6531 3.3), and
 * they are also what the relay can store: the Maildir names one folder after the address, and file
 * systems allow 255 octets per name, so an address that fits the path limit (256 octets with its
 * angle brackets, so 254 without) always fits one file name.
 */
export const ADDRESS_LIMITS = {
  localPartOctets: 64,
  domainOctets: 255,
  /** The forward-path, "<" and ">" included. */
  pathOctets: 256,
  /** One file or folder name (ext4, xfs, btrfs, tmpfs: 255 octets). */
  fileNameOctets: 255,
} as const;

export type AddressLimit = 'local-part' | 'domain' | 'path';

export interface TooLong {
  limit: AddressLimit;
  octets: number;
  max: number;
}

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

/** Which RFC 5321 limit the address breaks, if any (the local part is everything before the last @). */
export function addressTooLong(address: string): TooLong | null {
  const at = address.lastIndexOf('@');
  const local = at >= 0 ? address.slice(0, at) : address;
  const domain = at >= 0 ? address.slice(at + 1) : '';
  const checks: [AddressLimit, number, number][] = [
    ['local-part', octets(local), ADDRESS_LIMITS.localPartOctets],
    ['domain', octets(domain), ADDRESS_LIMITS.domainOctets],
    ['path', octets(address) + 2, ADDRESS_LIMITS.pathOctets],
  ];
  for (const [limit, n, max] of checks) if (n > max) return { limit, octets: n, max };
  return null;
}

/** What one accepted domain's mailbox server does with the case of local parts. */
export type LocalPartCase = 'preserve' | 'lower';

/**
 * The form of a recipient that names its mailbox: the domain in lower case (domains are
 * case-insensitive, RFC 5321 2.4), the local part kept as given unless its domain folds case.
 * Lower-casing can change the length of a UTF-8 address, so limits are checked on the result.
 */
export function normaliseAddress(address: string, localPartCase: LocalPartCase): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const local = address.slice(0, at);
  return `${localPartCase === 'lower' ? local.toLowerCase() : local}@${address.slice(at + 1).toLowerCase()}`;
}

/**
 * The domain of an address, as every service compares domains: what follows the last @ (a local
 * part may hold a quoted @, a domain never does), in lower case, without a root dot. '' when there
 * is no @. The one way to take the domain of an address; do not slice at '@' elsewhere.
 */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '';
  const domain = address.slice(at + 1).toLowerCase();
  return domain.endsWith('.') ? domain.slice(0, -1) : domain;
}

/** The local part of an address: everything before the last @ (the whole string when there is none). */
export function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at);
}
