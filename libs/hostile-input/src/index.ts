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
  for (const [open, close] of [['(', ')'], ['<', '>'], ['[', ']'], ['{', '}'], ['<div>', '</div>'], ['<a href="x">', '</a>']] as const) {
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
    '<a ', '<a href="', '<a href=', '<a href="http://', '<!--', '<![CDATA[', '<?', '</', '<img src=', '<p>',
    '&#', '&#x', '&amp;', '&', '=?', '=?utf-8?q?', '=?utf-8?b?', '=?x?q?=', '==', '=3D', '=\r\n',
    '\r\n', '\r\n ', '\r\n\t', '\n ', '\r', ' \t', '\u00a0', '\u2028', '\u200b', '\u202e', 'é', '\ud83d\ude00',
    'http://', 'https://a.', 'www.', 'www.a.', 'a.', 'a.b.', '1.', 'a-', 'xn--', 'a@', 'a.b@', '@a.', '<a@b>', 'mailto:',
    '%', '%2', '%25', '\\"', '\\', 'a:', ': ', ';', 'a=b;', 'boundary=', '--', '0',
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
