/**
 * Each parser of the reputation stage fed 1-2 MiB of its worst inputs (libs/hostile-input), with a
 * time bound per input of ten times or more what it takes on this machine (the figures are in
 * docs/security.md, "One message never stalls a stage: linear parsers"). A super-linear parser
 * takes minutes to hours on at least one of these, and fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMeta } from '@portcullis/contract/testing';
import { fill, hostileMessages, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { parseMime } from '@portcullis/message';
import { headerFromDomain } from '../src/header-from.js';
import { messageDomains } from '../src/message-domains.js';

const SIZE = 2 * MiB;

test('the MIME parse and message-domains: hostile messages of 2 MiB', async (t) => {
  const envelope = sampleMeta().envelope;
  const refused: string[] = [];
  const worst = await slowest(
    hostileMessages(SIZE),
    async ({ name, raw }) => {
      // mailparser refuses some at once (a header over its limit): an answer, not a stall.
      const parts = await parseMime(raw, { maxTextChars: 2 * MiB }).catch(() => void refused.push(name));
      if (parts) messageDomains(parts, envelope, new Set(), 100);
    },
    50_000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms; refused by mailparser: ${refused.join(', ') || 'none'}`);
});

test('header-from: a From header of each worst text', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => headerFromDomain(Buffer.from(`From: ${text}\r\n\r\n`, 'latin1')), 2000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(headerFromDomain(Buffer.from(`From: ${fill('(', 60_000)} <a@sender.example>\r\n\r\n`)), 'sender.example');
});
