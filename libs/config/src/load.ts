import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CheckedConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a parsed document; the error lists every bad key by its dotted path. */
export function parseConfig(doc: unknown, source = 'config'): Config {
  const parsed = CheckedConfigSchema.safeParse(doc ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `  ${[...issue.path, k].join('.')}: unknown key`);
    }
    return [`  ${issue.path.join('.') || '(top level)'}: ${issue.message}`];
  });
  throw new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
}

export function loadConfigFile(path: string): Config {
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
  return parseConfig(doc, `config file ${path}`);
}

/** Reads a secret file (Kubernetes Secret mounted as a file); trailing newline dropped. */
export function readSecretFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
