/**
 * Golden messages (test/golden/*.eml, written for these tests): each with the parse we expect
 * beside it (*.json), and checked against mailparser's own reading of the same file on every
 * field both produce. Where we read a message differently on purpose, the JSON says why
 * (differsFromMailparser) and the field is not compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { goldenView, mailparserView, type GoldenView } from './golden-view.js';

const DIR = new URL('../../test/golden/', import.meta.url);

interface Golden {
  about: string;
  parse: GoldenView;
  differsFromMailparser?: Record<string, string>;
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort();

test('the golden folder has the kinds of message it promises', () => {
  for (const kind of ['alternative', 'nested', 'broken-boundary', 'bad-base64', 'wrong-charset', 'eight-bit-undeclared', 'utf8-headers', 'huge-headers', 'no-body', 'bare-lf']) {
    assert.ok(files.includes(`${kind}.eml`), kind);
  }
});

for (const file of files) {
  test(`golden ${file}: our parse is the expected one, and agrees with mailparser`, async () => {
    const raw = readFileSync(new URL(file, DIR));
    const golden = JSON.parse(readFileSync(new URL(file.replace(/\.eml$/, '.json'), DIR), 'utf8')) as Golden;
    assert.ok(golden.about, 'each golden message says what it is');
    const ours = await goldenView(raw);
    assert.deepEqual(ours, golden.parse);
    const theirs = await mailparserView(raw);
    const differs = golden.differsFromMailparser ?? {};
    for (const [field, value] of Object.entries(theirs)) {
      if (field in differs) continue;
      assert.deepEqual(ours[field as keyof GoldenView], value, `${field}: mailparser reads it so`);
    }
    // The strict From parser and mailparser name the same addresses, unless the JSON says why not.
    if (!('fromHeader' in differs))
      assert.deepEqual(
        ours.fromHeader.addresses,
        (theirs.from ?? []).map((m) => m.address),
      );
    else
      assert.notDeepEqual(
        ours.fromHeader.addresses,
        (theirs.from ?? []).map((m) => m.address),
      );
  });
}

test('golden split: the header ends where the first empty line is, in the bytes themselves', () => {
  for (const file of files) {
    const raw = readFileSync(new URL(file, DIR)).toString('latin1');
    const golden = JSON.parse(readFileSync(new URL(file.replace(/\.eml$/, '.json'), DIR), 'utf8')) as Golden;
    const { headerEnd, bodyStart, ended } = golden.parse.split;
    if (!ended) {
      assert.equal(headerEnd, raw.length, file);
      continue;
    }
    assert.match(raw.slice(headerEnd, bodyStart), /^\r?\n$/, file);
    assert.ok(!/\n\r?\n/.test(raw.slice(0, bodyStart - 1)), `${file}: no earlier empty line`);
  }
});
