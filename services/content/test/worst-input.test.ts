/**
 * The content stage's parsers fed 2 MiB of their worst inputs (libs/hostile-input), each with a
 * time bound of ten times or more what it takes here (figures in docs/security.md, "One message
 * never stalls a stage: linear parsers"): the links of HTML (read by @portcullis/message) and
 * what their text shows, file names, and zip listings (very many entries, huge declared sizes,
 * deep paths, zips nested in zips).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { htmlLinks } from '@portcullis/message';
import { shownHost, urlHost } from '../src/checks/links.js';
import { extensions } from '../src/checks/file-kind.js';
import { imitatedDomain } from '../src/checks/lookalike-domains.js';
import { listZip } from '../src/checks/zip-entries.js';
import { buildZip } from './fixtures.js';

const SIZE = 2 * MiB;

test('checks/links: the links of 2 MiB of hostile HTML, and the host their text shows', async (t) => {
  const worst = await slowest(
    hostileTexts(SIZE),
    ({ text }) => {
      for (const l of htmlLinks(text).anchors) urlHost(l.href);
      shownHost(text);
      urlHost(text);
    },
    4000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  const deep = htmlLinks(`${'<b>'.repeat(SIZE / 4)}<a href="http://real.test/">www.shown.test</a>`).anchors;
  assert.deepEqual(
    deep.map((l) => [urlHost(l.href), shownHost(l.text)]),
    [['real.test', 'www.shown.test']],
  );
});

test('checks/file-kind: file names of 2 MiB', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => extensions(text), 5000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});

test('checks/lookalike-domains: hosts of 2 MiB (IDN, confusables, edit distance)', async (t) => {
  const hosts = function* () {
    yield* hostileTexts(SIZE);
    yield { name: 'one punycode label', text: `xn--${fill('a', SIZE)}-b` };
    yield { name: 'one long label before the domain', text: `${fill('a', SIZE)}.examp1e.com` };
  };
  // Without dots the whole host is the tail that is reduced to its skeleton and compared: the costly path.
  const worst = await slowest(hosts(), ({ text }) => imitatedDomain(text, ['example.com', 'bank.example'], 2), 20_000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(imitatedDomain(`${fill('a', SIZE)}.examp1e.com`, ['example.com'], 2), 'example.com');
});

/** A zip whose central directory declares `size` for every entry (the local headers are left as they are). */
function declaring(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  const central = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let i = out.indexOf(central); i >= 0; i = out.indexOf(central, i + 4)) {
    out.writeUInt32LE(size, i + 20);
    out.writeUInt32LE(size, i + 24);
  }
  return out;
}

test('checks/zip-entries: many entries, huge declared sizes, deep paths, nested zips', async (t) => {
  const tiny = Buffer.from('x');
  const many = buildZip(Array.from({ length: 40_000 }, (_, i) => ({ name: `${i}.txt`, content: tiny })));
  let nested = buildZip([{ name: 'a.exe', content: Buffer.from('MZ') }]);
  while (nested.length < SIZE / 2)
    nested = buildZip([
      { name: 'n.zip', content: nested },
      { name: 'm.zip', content: nested },
    ]);
  const zips = [
    { name: '40k entries', zip: many },
    { name: '40k entries declaring 4 GiB each', zip: declaring(many, 0xffffffff) },
    { name: 'deep paths', zip: buildZip(Array.from({ length: 30 }, (_, i) => ({ name: `${fill('a/', 65_000)}${i}.exe`, content: tiny }))) },
    { name: 'zips nested in zips', zip: nested },
    { name: 'one entry of 2 MiB of zeros', zip: buildZip([{ name: 'z.bin', content: Buffer.alloc(SIZE) }]) },
  ];
  const worst = await slowest(
    zips,
    async ({ zip }) => {
      const listing = await listZip(zip, 100_000);
      for (const e of listing.entries) extensions(e.name);
    },
    30_000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  const capped = await listZip(many, 1000);
  assert.equal(capped.entries.length, 1000);
  assert.equal(capped.truncated, true);
});
