import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@portcullis/telemetry';
import { FileCredentialSource } from '../../src/login/credentials-file.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../src/login/password-hash.js';

interface LogLine {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), trace: at('trace'), fatal: at('fatal') } as Record<string, unknown>;
  logger['child'] = () => logger;
  return { logger: logger as unknown as Logger, lines };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}

let dir: string;
let aliceHash: string;
let bobHash: string;
let carolHash: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-auth-file-'));
  [aliceHash, bobHash, carolHash] = await Promise.all([hashPassword('correct horse'), hashPassword('hunter2 but longer'), hashPassword('carol pw')]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function usersYaml(entries: Array<{ username: string; password: string; addresses?: string[] }>): string {
  const lines = ['users:'];
  for (const e of entries) {
    lines.push(`  - username: ${JSON.stringify(e.username)}`, `    password: ${JSON.stringify(e.password)}`);
    if (e.addresses) lines.push(`    addresses: ${JSON.stringify(e.addresses)}`);
  }
  return lines.join('\n') + '\n';
}

test('hashPassword writes scrypt$N$r$p$salt$key and verifyPassword checks it', async () => {
  const parts = aliceHash.split('$');
  assert.equal(parts.length, 6);
  assert.deepEqual(parts.slice(0, 4), ['scrypt', '16384', '8', '1']);
  const parsed = parsePasswordHash(aliceHash);
  assert.ok(parsed);
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.key.length, 32);
  assert.equal(await verifyPassword('correct horse', aliceHash), true);
  assert.equal(await verifyPassword('correct horsE', aliceHash), false);
  assert.equal(await verifyPassword('correct horse', 'plain-text'), false);
  // two hashes of one password differ (random salt)
  assert.notEqual(await hashPassword('correct horse'), aliceHash);
  // parameters out of range are refused
  assert.equal(parsePasswordHash('scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), undefined);
  assert.equal(parsePasswordHash('scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), undefined);
  await assert.rejects(hashPassword(''));
});

test('users file: right password, wrong password, unknown user, case-insensitive username', async () => {
  const path = join(dir, 'users-basic.yaml');
  await writeFile(
    path,
    usersYaml([
      { username: 'alice@example.test', password: aliceHash, addresses: ['alice@example.test', 'Sales@Example.TEST', '@lists.example.test'] },
      { username: 'scanner', password: bobHash, addresses: ['scanner@example.test'] },
      { username: 'carol@example.test', password: carolHash },
    ]),
  );
  const { logger } = memoryLogger();
  const src = await FileCredentialSource.open({ path, logger, pollIntervalMs: 0 });
  try {
    assert.equal(src.size, 3);
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse'), { ok: true, user: 'alice@example.test' });
    assert.deepEqual(await src.verify('ALICE@Example.Test', 'correct horse'), { ok: true, user: 'alice@example.test' });
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse '), { ok: false, reason: 'invalid' });
    assert.deepEqual(await src.verify('alice@example.test', 'hunter2 but longer'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await src.verify('nobody@example.test', 'correct horse'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await src.verify('scanner', 'hunter2 but longer'), { ok: true, user: 'scanner' });
    assert.deepEqual(await src.verify('alice@example.test', ''), { ok: false, reason: 'invalid' });
    assert.deepEqual(await src.verify('alice@example.test\0x', 'correct horse'), { ok: false, reason: 'invalid' });

    assert.deepEqual(src.addressesFor('alice@example.test'), ['alice@example.test', 'sales@example.test', '@lists.example.test']);
    assert.deepEqual(src.addressesFor('SCANNER'), ['scanner@example.test']);
    // addresses omitted: the username, when it is an address
    assert.deepEqual(src.addressesFor('carol@example.test'), ['carol@example.test']);
    assert.deepEqual(src.addressesFor('nobody'), []);
  } finally {
    src.close();
  }
});

test('an unknown user costs about as much as a wrong password (no enumeration by timing)', async () => {
  const path = join(dir, 'users-timing.yaml');
  await writeFile(path, usersYaml([{ username: 'alice@example.test', password: aliceHash }]));
  const { logger } = memoryLogger();
  const src = await FileCredentialSource.open({ path, logger, pollIntervalMs: 0 });
  try {
    const time = async (u: string): Promise<number> => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 3; i++) await src.verify(u, 'wrong password');
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await time('alice@example.test'); // warm up
    const known = await time('alice@example.test');
    const unknown = await time('mallory@example.test');
    // Both run one scrypt with N=16384, r=8 (tens of ms each); a lookup-only
    // miss would take microseconds.
    assert.ok(unknown > known * 0.4, `unknown user took ${unknown.toFixed(1)} ms, known ${known.toFixed(1)} ms`);
  } finally {
    src.close();
  }
});

test('the file is reloaded when rewritten; a broken file keeps the previous users and is logged without content', async () => {
  const path = join(dir, 'users-reload.yaml');
  await writeFile(path, usersYaml([{ username: 'alice@example.test', password: aliceHash }]));
  const { logger, lines } = memoryLogger();
  const src = await FileCredentialSource.open({ path, logger, pollIntervalMs: 25 });
  try {
    assert.equal((await src.verify('alice@example.test', 'correct horse')).ok, true);
    assert.equal((await src.verify('bob@example.test', 'hunter2 but longer')).ok, false);

    // Rewrite: bob added, alice removed.
    await writeFile(path, usersYaml([{ username: 'bob@example.test', password: bobHash, addresses: ['@example.test'] }]));
    await until(async () => (await src.verify('bob@example.test', 'hunter2 but longer')).ok);
    assert.deepEqual(await src.verify('alice@example.test', 'correct horse'), { ok: false, reason: 'invalid' });
    assert.deepEqual(src.addressesFor('bob@example.test'), ['@example.test']);

    // Broken YAML: bob stays.
    const before = lines.length;
    await writeFile(path, `users:\n  - username: "eve@example.test\n    password: ${carolHash}\n  [`);
    await until(() => lines.slice(before).some((l) => l.level === 'error'));
    assert.equal((await src.verify('bob@example.test', 'hunter2 but longer')).ok, true);
    assert.equal((await src.verify('eve@example.test', 'carol pw')).ok, false);

    // Valid YAML but an invalid entry (a plain-text password): the whole file is refused.
    await writeFile(path, usersYaml([{ username: 'eve@example.test', password: 'carol pw' }]));
    await until(() => lines.slice(before).filter((l) => l.level === 'error').length >= 2);
    assert.equal((await src.verify('eve@example.test', 'carol pw')).ok, false);
    assert.equal((await src.verify('bob@example.test', 'hunter2 but longer')).ok, true);

    // File gone (a Secret being swapped): bob stays.
    await rename(path, path + '.away');
    await until(() => lines.slice(before).filter((l) => l.level === 'error').length >= 3);
    assert.equal((await src.verify('bob@example.test', 'hunter2 but longer')).ok, true);

    // Nothing secret reached the log.
    const logged = JSON.stringify(lines);
    for (const secret of [carolHash, 'carol pw', bobHash, aliceHash, 'hunter2', 'correct horse']) {
      assert.ok(!logged.includes(secret), `log must not contain ${secret.slice(0, 10)}…`);
    }

    // Back again (JSON this time, which is YAML too), with carol.
    await writeFile(path + '.away', JSON.stringify({ users: [{ username: 'carol@example.test', password: carolHash }] }));
    await rename(path + '.away', path);
    await until(async () => (await src.verify('carol@example.test', 'carol pw')).ok);
    assert.equal((await src.verify('bob@example.test', 'hunter2 but longer')).ok, false);
  } finally {
    src.close();
  }
});

test('a file that cannot be used at startup is an error that names no secret', async () => {
  const { logger } = memoryLogger();
  const path = join(dir, 'users-bad.yaml');
  await writeFile(path, usersYaml([{ username: 'alice@example.test', password: 'not a hash at all' }]));
  await assert.rejects(FileCredentialSource.open({ path, logger, pollIntervalMs: 0 }), (err: Error) => {
    assert.match(err.message, /users\[0\]\.password/);
    assert.ok(!err.message.includes('not a hash at all'));
    return true;
  });
  await writeFile(
    path,
    usersYaml([
      { username: 'alice@example.test', password: aliceHash },
      { username: 'Alice@Example.test', password: bobHash },
    ]),
  );
  await assert.rejects(FileCredentialSource.open({ path, logger, pollIntervalMs: 0 }), /duplicates/);
  await writeFile(path, usersYaml([{ username: 'alice@example.test', password: aliceHash, addresses: ['alice%evil.test@example.test'] }]));
  await assert.rejects(FileCredentialSource.open({ path, logger, pollIntervalMs: 0 }), /addresses\[0\]/);
  await writeFile(path, `users:\n  - username: x\n    password: "${aliceHash}\n`);
  await assert.rejects(FileCredentialSource.open({ path, logger, pollIntervalMs: 0 }), (err: Error) => {
    assert.match(err.message, /not valid YAML/);
    assert.ok(!err.message.includes(aliceHash.slice(20)));
    return true;
  });
  await assert.rejects(FileCredentialSource.open({ path: join(dir, 'missing.yaml'), logger, pollIntervalMs: 0 }), /cannot read: ENOENT/);
});

test('a bare list of users is accepted too', async () => {
  const { logger } = memoryLogger();
  const path = join(dir, 'users-list.json');
  await writeFile(path, JSON.stringify([{ username: 'dave', password: bobHash, addresses: ['dave@example.test'] }]));
  const src = await FileCredentialSource.open({ path, logger, pollIntervalMs: 0 });
  try {
    assert.deepEqual(await src.verify('Dave', 'hunter2 but longer'), { ok: true, user: 'dave' });
  } finally {
    src.close();
  }
});
