/**
 * Test-only: the worst inputs for the parsers that read message and client data, shared by the
 * worst-input tests of each package (`<pkg>/test/worst-input.test.ts`). A parser that is linear
 * handles each of them in about the time it takes to read them; one that backtracks or rescans
 * (a regular expression retried from every position of a run, a search restarted for every open
 * bracket) takes quadratic time or worse on at least one, which the tests' time bound catches.
 * Nothing outside test/ imports this.
 */
import { performance } from 'node:perf_hooks';

export const MiB = 1024 * 1024;

/** `unit` repeated to exactly `length` characters (the last copy cut). */
export function fill(unit: string, length: number): string {
  if (length <= 0 || unit.length === 0) return '';
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** `prefix`, then `unit` repeated, then `suffix`: `length` characters in all (at least prefix + suffix). */
export function framed(prefix: string, unit: string, suffix: string, length: number): string {
  return prefix + fill(unit, length - prefix.length - suffix.length) + suffix;
}

/** Every character the parsers of mail split, quote, nest or escape on. */
export const DELIMITERS = [...'()<>[]{}"\'`@.,;:=?&#%!/\\|+-_*~^$ \t\r\n\0'];

export interface HostileInput {
  name: string;
  text: string;
}

/**
 * Hostile texts of `length` characters each, made one at a time (each is a large string): a run
 * of every delimiter and the delimiter between letters; unclosed quotes, comments, brackets and
 * tags; deep nesting; runs of whitespace and line breaks; runs of what starts a URL, an address,
 * an encoded word, an entity or a percent escape; long words and non-ASCII runs.
 */
export function* hostileTexts(length: number): Generator<HostileInput> {
  const name = (s: string) => JSON.stringify(s);
  for (const d of DELIMITERS) {
    yield { name: `run of ${name(d)}`, text: fill(d, length) };
    yield { name: `${name(`a${d}`)} repeated`, text: fill(`a${d}`, length) };
  }
  const half = Math.floor(length / 2);
  for (const [open, close] of [
    ['(', ')'],
    ['<', '>'],
    ['[', ']'],
    ['{', '}'],
    ['<div>', '</div>'],
    ['<a href="x">', '</a>'],
  ] as const) {
    yield { name: `nested ${open}${close}`, text: fill(open, half) + fill(close, half) };
  }
  const units: Record<string, string> = {
    'unclosed quote': '"',
    'unclosed comment': '(',
    'unclosed angle': '<',
    'unclosed literal': '[',
  };
  for (const [what, open] of Object.entries(units)) yield { name: what, text: framed(open, 'a ', '', length) };
  const runs = [
    '<a ',
    '<a href="',
    '<a href=',
    '<a href="http://',
    '<!--',
    '<![CDATA[',
    '<?',
    '</',
    '<img src=',
    '<p>',
    '&#',
    '&#x',
    '&amp;',
    '&',
    '=?',
    '=?utf-8?q?',
    '=?utf-8?b?',
    '=?x?q?=',
    '==',
    '=3D',
    '=\r\n',
    '\r\n',
    '\r\n ',
    '\r\n\t',
    '\n ',
    '\r',
    ' \t',
    '\u00a0',
    '\u2028',
    '\u200b',
    '\u202e',
    'é',
    '\ud83d\ude00',
    'http://',
    'https://a.',
    'www.',
    'www.a.',
    'a.',
    'a.b.',
    '1.',
    'a-',
    'xn--',
    'a@',
    'a.b@',
    '@a.',
    '<a@b>',
    '<a@b.test>, ',
    'a@b.test,',
    'mailto:',
    '%',
    '%2',
    '%25',
    '\\"',
    '\\',
    'a:',
    ': ',
    ';',
    'a=b;',
    'boundary=',
    '--',
    '0',
  ];
  for (const unit of runs) yield { name: `${name(unit)} repeated`, text: fill(unit, length) };
  const framedRuns: Array<[string, string, string]> = [
    ['<a href="', ')', '">x</a>'],
    ['<a href="', '"', '>x</a>'],
    ['<a href="http://a.test/', '>', '">'],
    ['http://a.test/', ')', ''],
    ['http://a.test/?', '&', ''],
    ['http://a.test/?u=', '%', ''],
    ['http://', 'a', '.test'],
    ['http://', 'a.', 'test'],
    ['www.', 'a', '.com'],
    ['a', '@', 'a.test'],
    ['"', 'a', ''],
    ['"', '\\', ''],
    ['(', 'a', ''],
    ['<', 'a', ''],
    ['=?utf-8?q?', '=', ''],
    ['=?utf-8?b?', 'A', ''],
  ];
  for (const [prefix, unit, suffix] of framedRuns) yield { name: `${name(prefix)} + ${name(unit)} repeated + ${name(suffix)}`, text: framed(prefix, unit, suffix, length) };
  yield { name: 'long word', text: fill('a', length) };
  yield { name: 'long number', text: fill('9', length) };
}

/** Wall time of `fn` in milliseconds. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export interface Slowest {
  name: string;
  ms: number;
}

/**
 * Feeds every input to `parse`, one at a time, and returns the slowest; throws naming the input
 * that took longer than `boundMs` (after it finished: a parser that never ends is stopped by the
 * test runner's timeout).
 */
export async function slowest<T>(inputs: Iterable<T & { name: string }>, parse: (input: T) => unknown, boundMs: number): Promise<Slowest> {
  let worst: Slowest = { name: '(none)', ms: 0 };
  for (const input of inputs) {
    const ms = await timeMs(() => parse(input));
    if (ms > boundMs) throw new Error(`${input.name}: ${ms.toFixed(0)} ms, over the bound of ${boundMs} ms`);
    if (ms > worst.ms) worst = { name: input.name, ms };
  }
  return worst;
}

export interface HostileMessage {
  name: string;
  raw: Buffer;
}

const CRLF = '\r\n';
const head = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n';

/**
 * Hostile messages of about `length` octets: one huge header (a run of each delimiter in From,
 * in a folded Subject, in encoded words, in a Content-Type parameter with an unclosed quote),
 * very many headers, deep multipart nesting, very many parts, unterminated boundaries, long
 * lines, runs of "=" in quoted-printable, broken base64, and HTML and text bodies that are the
 * worst texts above. Header cases are at most 512 KiB: mailparser refuses a header over 1 MiB at
 * once, and it is its parsing of what it accepts that is to be timed.
 */
export function* hostileMessages(length: number): Generator<HostileMessage> {
  const msg = (name: string, text: string): HostileMessage => ({ name, raw: Buffer.from(text, 'utf8') });
  const headerLength = Math.min(length, 512 * 1024);
  for (const unit of ['<', '>', '"', '(', ')', '@', ',', ';', ':', '\\', '.', '=', ' ', 'a@', '<a@b>', '"a', '(a', '=?utf-8?q?a?=', '=?utf-8?b?']) {
    yield msg(`From: run of ${JSON.stringify(unit)}`, `From: ${fill(unit, headerLength)}${CRLF}To: b@example.test${CRLF}${CRLF}body${CRLF}`);
  }
  yield msg('folded Subject', `${head.replace('Subject: x\r\n', '')}Subject: ${fill('a\r\n ', headerLength)}${CRLF}${CRLF}body${CRLF}`);
  yield msg('encoded words in Subject', `${head.replace('Subject: x\r\n', '')}Subject: ${fill('=?utf-8?q?=C3=A9?= ', headerLength)}${CRLF}${CRLF}body${CRLF}`);
  yield msg('unclosed quote in boundary', `${head}Content-Type: multipart/mixed; boundary="${fill('a', headerLength)}${CRLF}${CRLF}body${CRLF}`);
  yield msg('many parameters', `${head}Content-Type: text/plain; ${fill('a=b; ', headerLength)}${CRLF}${CRLF}body${CRLF}`);
  yield msg('many headers', `${head}${fill('X-A: a\r\n', headerLength)}${CRLF}body${CRLF}`);
  yield msg('header without colon', `${head}${fill('a', headerLength)}${CRLF}${CRLF}body${CRLF}`);
  yield msg('no header end', `${head}${fill('X-A: a\r\n', headerLength)}`);
  const depth = Math.floor(length / 120);
  let nested = '';
  for (let i = 0; i < depth; i++) nested += `--b${i}${CRLF}Content-Type: multipart/mixed; boundary=b${i + 1}${CRLF}${CRLF}`;
  yield msg('deep multipart nesting', `${head}Content-Type: multipart/mixed; boundary=b0${CRLF}${CRLF}${nested}`);
  const part = `--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}x${CRLF}`;
  yield msg('many parts', `${head}Content-Type: multipart/mixed; boundary=b${CRLF}${CRLF}${fill(part, length)}--b--${CRLF}`);
  const attachment = `--b${CRLF}Content-Type: application/octet-stream; name=a.zip${CRLF}Content-Disposition: attachment; filename=a.zip${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}UEsDBA==${CRLF}`;
  yield msg('many attachments', `${head}Content-Type: multipart/mixed; boundary=b${CRLF}${CRLF}${fill(attachment, length)}--b--${CRLF}`);
  yield msg('boundary runs', `${head}Content-Type: multipart/mixed; boundary=b${CRLF}${CRLF}${fill('--b\r\n', length)}`);
  yield msg('long line', `${head}${CRLF}${fill('a', length)}`);
  yield msg('quoted-printable "=" run', `${head}Content-Transfer-Encoding: quoted-printable${CRLF}${CRLF}${fill('=', length)}`);
  yield msg('quoted-printable soft breaks', `${head}Content-Transfer-Encoding: quoted-printable${CRLF}${CRLF}${fill('=\r\n', length)}`);
  yield msg('broken base64', `${head}Content-Transfer-Encoding: base64${CRLF}${CRLF}${fill('!A=', length)}`);
  for (const [what, type, unit] of [
    ['nested tags', 'text/html', '<div>'],
    // just under mailparser's html-to-text depth limit (1000), over and over
    ['nesting to depth 999, repeated', 'text/html', `${'<div>'.repeat(999)}${'</div>'.repeat(999)}`],
    ['unclosed attribute', 'text/html', '<a href="'],
    ['href of ")"', 'text/html', ')'],
    ['separators', 'text/plain', 'a`'],
    ['punycode labels', 'text/plain', 'xn--a.'],
    ['dots', 'text/plain', 'a.'],
  ] as const) {
    const body = type === 'text/html' && unit === ')' ? framed('<a href="http://a.test/', ')', '">x</a>', length) : fill(unit, length);
    yield msg(`${type} body: ${what}`, `${head}Content-Type: ${type}; charset=utf-8${CRLF}${CRLF}${body}${CRLF}`);
  }
}
