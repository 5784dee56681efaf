/**
 * Each parser of the reputation stage fed 1-2 MiB of its worst inputs (libs/hostile-input), with a
 * time bound per input of ten times or more what it takes on this machine (the figures are in
 * docs/security.md, "One message never stalls a stage: linear parsers"). A super-linear parser
 * takes minutes to hours on at least one of these, and fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMeta } from '@portcullis/contract/testing';
import { fill, framed, hostileMessages, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { headerFromDomain } from '../src/header-from.js';
import { htmlLinks } from '../src/html-links.js';
import { messageDomains } from '../src/message-domains.js';
import { readMessage } from '../src/message-parts.js';
import { textLinks } from '../src/text-links.js';
import { linkTargets } from '../src/url-targets.js';

const SIZE = 2 * MiB;
/** linkify-it is linear but slow on runs of its separators (about 2 us a character): fed 1 MiB. */
const TEXT_SIZE = 1 * MiB;

test('url-targets: a link of 2 MiB of closing characters, quotes, escapes or labels', async (t) => {
  const links = function* () {
    yield* hostileTexts(SIZE);
    yield { name: '"(" + ")" run (issue 14)', text: framed('(http://a.test/', ')', '', SIZE) };
    yield { name: 'only closers', text: fill('>")\'', SIZE) };
    yield { name: 'percent-encoded link', text: framed('http%3A%2F%2Fa.test%2F', '%25', '', SIZE) };
    yield { name: 'many nested URLs in the query', text: framed('http://a.test/?', 'u=//b.test&', '', SIZE) };
    // redirect-wrappers: a wrapper whose target is the hostile text, and wrappers inside wrappers
    yield { name: 'Google wrapper of ")" run', text: framed('https://www.google.com/url?q=http://a.test/', ')', '', SIZE) };
    yield { name: 'Proofpoint wrapper of "-" run', text: framed('https://urldefense.proofpoint.com/v2/url?u=https-3A__a.test_', '-2D', '', SIZE) };
    yield { name: 'wrapper of wrappers', text: fill('https://www.google.com/url?q=', SIZE) };
  };
  const worst = await slowest(links(), ({ text }) => linkTargets(text), 10_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.deepEqual(linkTargets(framed('(http://a.test/', ')', '', SIZE)).map((x) => x.kind === 'domain' && x.domain), ['a.test']);
});

test('text-links (linkify-it): 1 MiB of separators, dots, punycode labels, addresses', async (t) => {
  const texts = function* () {
    yield* hostileTexts(TEXT_SIZE);
    yield { name: 'xn-- labels before "-" (exponential in linkify-it)', text: `${fill('xn--a.', TEXT_SIZE - 1)}-` };
    yield { name: 'xn-- labels between others', text: `${fill('xn--a.b.', TEXT_SIZE - 1)}-` };
  };
  const worst = await slowest(texts(), ({ text }) => textLinks(text), 40_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  // The rewrite before linkify-it loses no link: an IDN host keeps its labels.
  assert.deepEqual(textLinks(`go to ${fill('xn--a.', 60)}xn--p1ai/x now`), [`http://${fill('xn--a.', 60)}xn--p1ai/x`]);
});

test('html-links: 2 MiB of nesting, unclosed tags, attributes and entities', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => htmlLinks(text), 4000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.deepEqual(htmlLinks(`${'<div>'.repeat(SIZE / 8)}<a href="http://deep.test/">x</a>`).targets, ['http://deep.test/']);
});

test('message-parts (mailparser) and message-domains: hostile messages of 2 MiB', async (t) => {
  const envelope = sampleMeta().envelope;
  const refused: string[] = [];
  const worst = await slowest(
    hostileMessages(SIZE),
    async ({ name, raw }) => {
      // mailparser refuses some at once (a header over its limit): an answer, not a stall.
      const parts = await readMessage(raw, 2 * MiB).catch(() => void refused.push(name));
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
