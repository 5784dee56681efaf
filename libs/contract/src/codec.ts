import type { z } from 'zod';
import type { MailMeta, MailRecord } from './record.js';
import { TopicSchemas, type MailTopic } from './schemas.js';

/**
 * A mail record's value is the metadata as one line of JSON, a LF, then the raw
 * message octets untouched. JSON never contains a raw LF, so the first LF ends
 * it. The message is not base64-encoded (that would cost a third more bytes on
 * the broker and a copy on every read).
 */
const SEPARATOR = 0x0a;

export function encodeMail(record: MailRecord): Buffer {
  const head = Buffer.from(JSON.stringify(record.meta), 'utf8');
  return Buffer.concat([head, Buffer.of(SEPARATOR), record.raw], head.length + 1 + record.raw.length);
}

export class RecordError extends Error {
  override readonly name = 'RecordError';
}

/** Reads and validates a record from the given topic; throws RecordError saying what is wrong. */
export function decodeMail(topic: MailTopic, value: Buffer | null): MailRecord {
  if (!value || value.length === 0) throw new RecordError('empty record');
  const end = value.indexOf(SEPARATOR);
  if (end < 0) throw new RecordError('no metadata separator');
  let json: unknown;
  try {
    json = JSON.parse(value.subarray(0, end).toString('utf8'));
  } catch (err) {
    throw new RecordError(`metadata is not JSON: ${(err as Error).message}`);
  }
  const schema = TopicSchemas[topic] as z.ZodType<MailMeta> | undefined;
  if (!schema) throw new RecordError(`no schema for topic ${topic}`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new RecordError(`schema ${topic}: ${describeIssues(parsed.error)}`);
  const raw = value.subarray(end + 1);
  if (raw.length !== parsed.data.size) {
    throw new RecordError(`message is ${raw.length} octets, metadata says ${parsed.data.size}`);
  }
  return { meta: parsed.data, raw };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
