/**
 * The auth stage's own header handling (headers.ts: the header block, its fields, the authserv-id
 * of Authentication-Results, the forged ones stripped) fed 2 MiB of the worst inputs
 * (libs/hostile-input), with a time bound of ten times or more what it takes here (figures in
 * docs/security.md, "One message never stalls a stage: linear parsers").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, hostileMessages, hostileTexts, MiB, slowest } from '@portcullis/hostile-input';
import { authservIdOf, prependHeaders, stripForgedResults } from '../src/headers.js';

const SIZE = 2 * MiB;
const OURS = 'mx.example.test';

test('headers: Authentication-Results of 2 MiB, folded, commented, many of them', async (t) => {
  const inputs = function* () {
    for (const { name, text } of hostileTexts(SIZE)) {
      yield { name: `A-R value: ${name}`, raw: Buffer.from(`Authentication-Results: ${text}\r\n\r\nbody`, 'latin1') };
      yield { name: `header block: ${name}`, raw: Buffer.from(`${text}\r\n\r\nbody`, 'latin1') };
    }
    yield* hostileMessages(SIZE);
    yield { name: 'many forged A-R', raw: Buffer.from(`${fill(`Authentication-Results: ${OURS}; spf=pass\r\n`, SIZE)}\r\nbody`) };
    yield { name: 'nested comments', raw: Buffer.from(`Authentication-Results: ${fill('(', SIZE / 2)}${fill(')', SIZE / 2)} ${OURS}; none\r\n\r\n`) };
    yield { name: 'folds', raw: Buffer.from(`Authentication-Results: ${fill('\r\n (a)', SIZE)} ${OURS}; none\r\n\r\n`) };
  };
  const worst = await slowest(
    inputs(),
    ({ raw }) => {
      stripForgedResults(raw, OURS);
      authservIdOf(raw.toString('latin1'));
    },
    15_000,
  );
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
  assert.equal(stripForgedResults(Buffer.from(`${fill(`Authentication-Results: ${OURS}; spf=pass\r\n`, 400_000)}\r\n`), OURS).removed > 0, true);
});

test('headers: prepending to a 2 MiB message of each worst text', async (t) => {
  const worst = await slowest(hostileTexts(SIZE), ({ text }) => prependHeaders(Buffer.from(text), `X-A: ${text}`), 5000);
  t.diagnostic(`slowest: ${worst.name}, ${worst.ms.toFixed(0)} ms`);
});
