import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMeta } from '@portcullis/contract/testing';
import { linkTargets, parseMime } from '@portcullis/message';
import { messageDomains } from '../src/message-domains.js';
import { HIDDEN, obfuscatedMessage } from '../src/testing.js';

test('every obfuscation is seen through to the registered domain', async () => {
  const parts = await parseMime(obfuscatedMessage(), { maxTextChars: 1 << 20 });
  const meta = sampleMeta();
  const found = messageDomains(parts, { ...meta.envelope, mailFrom: 'bounce@envelope.example', helo: 'mail.helo.example' }, new Set(['example.test']), 100);
  for (const [trick, domain] of Object.entries(HIDDEN)) assert.ok(found.domains.includes(domain), `${trick}: ${domain} not in ${found.domains.join(' ')}`);
  for (const d of ['sender.example', 'replyto.example', 'envelope.example', 'helo.example', 'bit.ly']) assert.ok(found.domains.includes(d), d);
  assert.ok(!found.domains.includes('google.com'), 'a wrapper is replaced by its target');
  assert.ok(!found.domains.includes('script-only.example'), 'script is not text');
  assert.ok(!found.domains.includes('example.test'), 'our own domains are not looked up');
  assert.deepEqual(found.shorteners, ['bit.ly']);
  assert.deepEqual(found.ipLinks.sort(), ['127.0.0.1', '192.168.1.1']);
});

test('links reduce to registered domains with the public suffix list', () => {
  assert.deepEqual(linkTargets('https://a.b.example.co.uk/x'), [{ kind: 'domain', host: 'a.b.example.co.uk', domain: 'example.co.uk', shortener: false }]);
  assert.deepEqual(linkTargets('www.Example.COM'), [{ kind: 'domain', host: 'www.example.com', domain: 'example.com', shortener: false }]);
  assert.deepEqual(linkTargets('javascript:alert(1)'), []);
  assert.deepEqual(linkTargets('http://[2001:db8::1]/'), [{ kind: 'ip', host: '[2001:db8::1]' }]);
});

test('Proofpoint v2 wrappers are decoded', () => {
  const t = linkTargets('https://urldefense.proofpoint.com/v2/url?u=https-3A__pp-2Dhidden.example_x&d=DwMF');
  assert.deepEqual(
    t.map((x) => x.kind === 'domain' && x.domain),
    ['pp-hidden.example'],
  );
});

test('a message cut short (the parse limit) still gives the links before the cut', async () => {
  const whole = obfuscatedMessage();
  const parts = await parseMime(whole.subarray(0, whole.indexOf('Content-Transfer-Encoding: base64')), { maxTextChars: 1 << 20 });
  const found = messageDomains(parts, sampleMeta().envelope, new Set(), 100);
  assert.ok(found.domains.includes(HIDDEN.quotedPrintable));
});
