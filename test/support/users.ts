import { writeFileSync } from 'node:fs';
import { hashPassword } from '@portcullis/edge';

export interface TestUser {
  username: string;
  password: string;
  addresses?: string[];
}

/** Writes a users file (auth.source: file) with each password hashed as `portcullis hash-password` does. */
export async function writeUsersFile(path: string, users: TestUser[]): Promise<string> {
  const entries = await Promise.all(
    users.map(async (u) => `  - username: ${u.username}\n    password: "${await hashPassword(u.password)}"\n${u.addresses ? `    addresses: [${u.addresses.join(', ')}]\n` : ''}`),
  );
  writeFileSync(path, `users:\n${entries.join('')}`);
  return path;
}
