/**
 * The edge's parsers of client data fed 2 MiB of their worst inputs (libs/hostile-input), each with
 * a time bound of ten times or more what it takes here (figures in docs/security.md, "One message
 * never stalls a stage: linear parsers"): the header and line limits scanner on DATA, the From
 * header rule and sender identity on submission (the parser under them is libs/message's, tested there), and the RCPT/MAIL address checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, hostileMessages, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { HeaderLimitScanner } from '../src/data/header-limits.js';
import { checkFromHeader, checkSender, normalizeAllowedEntry } from '../src/mail/sender-identity.js';
import { checkRecipient } from '../src/rcpt/recipient-checks.js';

const SIZE = 2 * MiB;

/** Pushes raw through a scanner in chunks of `chunk` octets, as DATA arrives. */
function scan(raw: Buffer, limits: { maxHeaderBytes: number; maxLineLength: number }, chunk: number) {
  const s = new HeaderLimitScanner(limits);
  for (let i = 0; i < raw.length; i += chunk) s.push(raw.subarray(i, i + chunk));
  return s.end();
}

test('header-limits: 2 MiB of each worst text and message, whole and in small chunks', async (t) => {
  const inputs = function* () {
    for (const { name, text } of hostileTexts(SIZE)) yield { name, raw: Buffer.from(text, 'utf8') };
    yield* hostileMessages(SIZE);
    yield { name: 'short header lines', raw: Buffer.from(fill('a:b\r\n', SIZE)) };
    yield { name: 'bare CR body', raw: Buffer.from(`a: b\r\n\r\n${fill('x\r', SIZE)}`) };
  };
  const wide = { maxHeaderBytes: 4 * MiB, maxLineLength: 998 };
  const worst = await slowest(
    inputs(),
    ({ raw }) => {
      scan(raw, wide, 64 * 1024);
      scan(raw, wide, 7);
      scan(raw, { maxHeaderBytes: 4 * MiB, maxLineLength: 4 * MiB }, 64 * 1024);
    },
    5000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(scan(Buffer.from(fill('a', SIZE)), wide, 64 * 1024).ok, false);
});

test('sender-identity: MAIL FROM addresses and allowed entries of 2 MiB', async (t) => {
  const worst = await slowest(
    hostileTexts(SIZE),
    ({ text }) => {
      normalizeAllowedEntry(text);
      checkSender('alice', text, ['@example.test', text]);
      checkSender('alice', `<${text}@example.test>`, ['@example.test']);
    },
    10_000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});

test('sender-identity: the From header rule on From headers of 2 MiB', async (t) => {
  // The parser itself (libs/message readFromHeader) has its own worst-input test; this one bounds the rule over it.
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => checkFromHeader('alice', Buffer.from(`From: ${text}\r\n\r\n`, 'latin1'), ['@example.test']), 25_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.deepEqual(checkFromHeader('alice', Buffer.from(`From: (${fill('(', 1000)}${fill(')', 1000)}) <a@example.test>\r\n\r\n`), ['@example.test']), {
    ok: true,
    addresses: ['a@example.test'],
  });
});

test('rcpt: RCPT TO addresses of 2 MiB', async (t) => {
  const policy = { domains: new Map([['example.test', 'preserve' as const]]), outbound: false };
  const worst = await slowest(
    hostileTexts(SIZE),
    ({ text }) => {
      checkRecipient(`${text}@example.test`, { authenticated: true, smtputf8: true }, policy);
      checkRecipient(text, { authenticated: true, smtputf8: true }, policy);
      checkRecipient(`a@${text}`, { authenticated: false, smtputf8: false }, policy);
    },
    2000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});
