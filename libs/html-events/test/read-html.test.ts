import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHtml } from '../src/index.js';

function events(html: string): string[] {
  const out: string[] = [];
  readHtml(html, {
    onopentag: (name, attrs) => out.push(`<${name} ${JSON.stringify(attrs)}>`),
    onclosetag: (name) => out.push(`</${name}>`),
    ontext: (text) => out.push(text),
    onend: () => out.push('end'),
  });
  return out;
}

test('tags with lower-case names and decoded attributes; the first of a repeated attribute wins', () => {
  assert.deepEqual(events('<A HREF="&#x68;ttp://a.test/?x=1&amp;y=2" href="http://b.test">x&lt;y</a>'), ['<a {"href":"http://a.test/?x=1&y=2"}>', 'x', '<', 'y', '</a>', 'end']);
});

test('script and style are raw text: a tag inside them is not a tag', () => {
  assert.deepEqual(events('<script>var s = "<a href=http://no.test>";</script><b>'), ['<script {}>', 'var s = "<a href=http://no.test>";', '</script>', '<b {}>', 'end']);
});

test('comments, unquoted and unclosed attributes, and nothing implied', () => {
  assert.deepEqual(events('<!-- <a href=x> --><img src=http://i.test/x.png><p>one<p>two</div>'), [
    '<img {"src":"http://i.test/x.png"}>',
    '<p {}>',
    'one',
    '<p {}>',
    'two',
    '</div>',
    'end',
  ]);
  assert.deepEqual(events('<a href="http://open.test'), ['end']);
});
