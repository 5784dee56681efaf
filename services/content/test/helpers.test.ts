import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotPool } from '../src/engines/slots.js';
import { editDistance, imitatedDomain, skeleton } from '../src/checks/lookalike-domains.js';
import { extensions } from '../src/checks/file-kind.js';
import { shownHost } from '../src/checks/links.js';

test('slots: at most `size` at once, a bounded line, a deadline for the wait', async () => {
  const pool = new SlotPool(1, 1);
  let release!: () => void;
  const first = pool.run(1000, () => new Promise<void>((r) => (release = r)));
  const second = pool.run(1000, async () => 'second');
  await assert.rejects(
    pool.run(1000, async () => 'third'),
    /too many scans waiting/,
  );
  assert.equal(pool.inUse, 1);
  release();
  await first;
  assert.equal(await second, 'second');
  const hold = pool.run(1000, () => new Promise<void>((r) => setTimeout(r, 200)));
  await assert.rejects(
    pool.run(50, async () => 'late'),
    /no free slot before the deadline/,
  );
  await hold;
  assert.equal(pool.inUse, 0);
});

test('look-alike domains: what is flagged and what is not', () => {
  const protectedDomains = ['example.com', 'bank.example'];
  assert.equal(imitatedDomain('examp1e.com', protectedDomains, 1), 'example.com');
  assert.equal(imitatedDomain('exarnple.com', protectedDomains, 1), 'example.com');
  assert.equal(imitatedDomain('login.exmaple.com', protectedDomains, 1), 'example.com');
  assert.equal(imitatedDomain('xn--exmple-cua.com', protectedDomains, 1), 'example.com'); // exämple.com
  assert.equal(imitatedDomain('mail.example.com', protectedDomains, 1), undefined);
  assert.equal(imitatedDomain('example.org', protectedDomains, 1), undefined);
  assert.equal(imitatedDomain('sample.net', protectedDomains, 1), undefined);
  assert.equal(imitatedDomain('examples.co', protectedDomains, 0), undefined);
  assert.equal(skeleton('pаypal.com'), skeleton('paypal.com'));
  assert.equal(editDistance('exmaple', 'example', 2), 1);
});

test('file names and link texts', () => {
  assert.deepEqual(extensions('Invoice.PDF.exe '), ['exe', 'pdf']);
  assert.deepEqual(extensions('folder/readme'), []);
  assert.equal(shownHost('https://www.paypal.com/login'), 'www.paypal.com');
  assert.equal(shownHost('www.sender.example'), 'www.sender.example');
  assert.equal(shownHost('Click here'), undefined);
});
