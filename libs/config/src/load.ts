import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CheckedConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Keys that were renamed, old dotted path -> new dotted path. The schema is strict, so without
 * this an install still using an old name would stop at start: the old key alone is moved to its
 * new place (and reported as deprecated); old and new together are a config error naming both.
 */
export const RENAMED_KEYS: ReadonlyArray<{ readonly from: string; readonly to: string }> = [
  // The edge's SMTP login: "auth" is the SPF/DKIM/DMARC stage (issue 15).
  { from: 'auth', to: 'login' },
  // The connect-time DNSBL is read by the edge, which owns the connect section (issue 15).
  { from: 'reputation.connect', to: 'connect.dnsbl' },
];

/** Called once per old key found in a document, with its old and new dotted paths. */
export type DeprecatedKeyHandler = (from: string, to: string) => void;

const warnDeprecated: DeprecatedKeyHandler = (from, to) =>
  process.emitWarning(`config key ${from} is deprecated: it is read as ${to}; rename it`, { type: 'DeprecationWarning', code: 'PORTCULLIS_CONFIG_KEY' });

type Doc = Record<string, unknown>;
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies RENAMED_KEYS to a copy of the document (the objects on the way to a moved key are
 * copied, the rest shared). Returns the issues of keys given under both names.
 */
function moveRenamedKeys(doc: unknown, onDeprecated: DeprecatedKeyHandler): { doc: unknown; clashes: string[] } {
  if (!isObject(doc)) return { doc, clashes: [] };
  let out: Doc = doc;
  const clashes: string[] = [];
  for (const { from, to } of RENAMED_KEYS) {
    const fromPath = from.split('.');
    const toPath = to.split('.');
    const fromParent = fromPath.slice(0, -1).reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), out);
    const fromKey = fromPath[fromPath.length - 1]!;
    if (!isObject(fromParent) || !(fromKey in fromParent)) continue;
    const value = fromParent[fromKey];
    const existing = toPath.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), out);
    if (existing !== undefined) {
      clashes.push(`  ${from}: given together with ${to}, its new name: keep only ${to}`);
      continue;
    }
    out = setPath(setPath(out, fromPath, undefined), toPath, value);
    onDeprecated(from, to);
  }
  return { doc: out, clashes };
}

/** A copy of `doc` with the value at `path` set (undefined: the key removed), creating objects on the way. */
function setPath(doc: Doc, path: string[], value: unknown): Doc {
  const [key, ...rest] = path;
  const copy: Doc = { ...doc };
  if (rest.length === 0) {
    if (value === undefined) delete copy[key!];
    else copy[key!] = value;
    return copy;
  }
  const child = copy[key!];
  // Not an object where one is needed: leave it for the schema to name.
  if (child !== undefined && !isObject(child)) return copy;
  copy[key!] = setPath(isObject(child) ? child : {}, rest, value);
  return copy;
}

/**
 * Validates a parsed document; the error lists every bad key by its dotted path. Old names of
 * renamed keys are read under their new names, each reported to `onDeprecated` (by default a
 * process warning, which the gateway logs at start).
 */
export function parseConfig(doc: unknown, source = 'config', onDeprecated: DeprecatedKeyHandler = warnDeprecated): Config {
  const moved = moveRenamedKeys(doc ?? {}, onDeprecated);
  if (moved.clashes.length > 0) throw new ConfigError(`${source} is invalid:\n${moved.clashes.join('\n')}`);
  const parsed = CheckedConfigSchema.safeParse(moved.doc);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `  ${[...issue.path, k].join('.')}: unknown key`);
    }
    return [`  ${issue.path.join('.') || '(top level)'}: ${issue.message}`];
  });
  throw new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
}

export function loadConfigFile(path: string, onDeprecated?: DeprecatedKeyHandler): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError(`config file ${path} is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseConfig(doc, `config file ${path}`, onDeprecated);
}

/** Reads a secret file (Kubernetes Secret mounted as a file); trailing newline dropped. */
export function readSecretFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
