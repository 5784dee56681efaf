/**
 * Each parser of @portcullis/message fed 1-2 MiB of its worst inputs (libs/hostile-input), with a
 * time bound per input of ten times or more what it takes on this machine (the figures are in
 * docs/security.md, "One message never stalls a stage: linear parsers"). A super-linear parser
 * takes minutes to hours on at least one of these, and fails. (Moved here with the parsers from
 * services/reputation and services/content.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, framed, hostileMessages, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { htmlLinks } from '../src/links/html-links.js';
import { textLinks } from '../src/links/text-links.js';
import { linkTargets } from '../src/links/url-targets.js';
import { parseMime } from '../src/mime/parse.js';
import { splitMessage } from '../src/split.js';
import { fieldValues } from '../src/header-fields.js';
import { parseMailboxList, parseAddress, readFromHeader } from '../src/address-parser.js';

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
  assert.deepEqual(
    linkTargets(framed('(http://a.test/', ')', '', SIZE)).map((x) => x.kind === 'domain' && x.domain),
    ['a.test'],
  );
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

test('mime/parse (mailparser, bounded): hostile messages of 2 MiB', async (t) => {
  const refused: string[] = [];
  const worst = await slowest(hostileMessages(SIZE), ({ name, raw }) => parseMime(raw, { inspectBytes: 64 * 1024 }).catch(() => void refused.push(name)), 20_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms; refused by mailparser: ${refused.length} of them`);
});

test('split and header fields: 2 MiB of line breaks, blanks and folds', async (t) => {
  const texts = function* () {
    yield* hostileTexts(SIZE);
    yield { name: 'CR LF runs without an empty line', text: fill('a\r\n', SIZE) };
    yield { name: 'folded lines', text: `From: a${fill('\r\n b', SIZE)}` };
    yield { name: 'blanks before the colon', text: `From${fill(' ', SIZE)}: a@b.test` };
  };
  const worst = await slowest(
    texts(),
    ({ text }) => {
      const raw = Buffer.from(text, 'latin1');
      fieldValues(raw.subarray(0, splitMessage(raw).headerEnd), 'from');
    },
    4000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});

test('address-parser: addresses of 2 MiB, and mailbox lists', async (t) => {
  const worst = await slowest(
    hostileTexts(SIZE),
    ({ text }) => {
      parseAddress(text);
      parseMailboxList(`"${text}" <a@example.test>`);
    },
    10_000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});

test('address-parser: the RFC 5322 From parser on From headers of 2 MiB', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => readFromHeader(Buffer.from(`From: ${text}\r\n\r\n`, 'latin1')), 25_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  // 150k mailboxes in one From (each > used to be searched for from the start of the list).
  assert.equal(parseMailboxList(`${'<a@b.test>,'.repeat(150_000)}<a@b.test>`)?.length, 150_001);
  assert.deepEqual(readFromHeader(Buffer.from(`From: (${fill('(', 1000)}${fill(')', 1000)}) <a@example.test>\r\n\r\n`)).addresses, ['a@example.test']);
});
