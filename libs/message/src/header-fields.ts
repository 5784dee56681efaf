/**
 * The fields of a header section: split (byte for byte, so a stage that edits the header keeps
 * every other octet as it was), unfolded, and decoded for reading (RFC 6532 UTF-8, RFC 2047
 * encoded words through libmime, the decoder mailparser uses).
 */
import libmime from 'libmime';

const LF = 0x0a;

/**
 * The fields of a header section, each with its continuation lines and line breaks, as views of
 * the section. A line starting with a space or tab continues the field before it (RFC 5322 2.2.3).
 */
export function headerFields(section: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let lf = section.indexOf(LF); lf >= 0; lf = section.indexOf(LF, lf + 1)) {
    const next = section[lf + 1];
    if (next === 0x20 || next === 0x09) continue; // folded: the field goes on
    out.push(section.subarray(start, lf + 1));
    start = lf + 1;
  }
  if (start < section.length) out.push(section.subarray(start));
  return out;
}

/** The field's name as written (before the colon and any space or tab before it), or '' when it has no colon. */
export function fieldName(field: string): string {
  const colon = field.indexOf(':');
  if (colon <= 0) return '';
  // By index: /[ \t]+$/ would be retried from every position of a long run of blanks.
  let end = colon;
  while (end > 0 && (field[end - 1] === ' ' || field[end - 1] === '\t')) end--;
  return field.slice(0, end);
}

/** RFC 5322 unfolding: every line break that is followed by a space or tab is removed (the blank kept). */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '');
}

/**
 * Unfolded values of the fields called `name` (any case) in a header section, without their final
 * line break, as octets: for a reader that decodes them its own way (a display that keeps a field
 * whose octets are not UTF-8, for one).
 */
export function fieldValueOctets(section: Buffer, name: string): Buffer[] {
  const wanted = name.toLowerCase();
  const out: Buffer[] = [];
  for (const f of headerFields(section)) {
    const text = f.toString('latin1');
    if (fieldName(text).toLowerCase() !== wanted) continue;
    out.push(Buffer.from(unfold(text.slice(text.indexOf(':') + 1)).replace(/\r?\n$/, ''), 'latin1'));
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Unfolded values of the fields called `name` (any case) in a header section, without their final
 * line break. The values are UTF-8 (RFC 6532); a value that is not valid UTF-8 is returned as
 * '\u0000', which no parser accepts.
 */
export function fieldValues(section: Buffer, name: string): string[] {
  return fieldValueOctets(section, name).map((value) => {
    try {
      return utf8.decode(value);
    } catch {
      return '\u0000';
    }
  });
}

/** An unstructured value for reading (Subject, a display name): RFC 2047 encoded words decoded, blanks kept. */
export function decodeHeaderValue(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value; // a word in a charset libmime does not know stays as it was written
  }
}

/**
 * The fields of a header section as latin1 text (one character per octet, so they are written
 * back byte for byte), each ending in a line break: the last field of a message with no body may
 * lack one, and gets CRLF, so that a field added after it stays a field of its own.
 */
export function headerLines(section: Buffer): string[] {
  return headerFields(section).map((f) => {
    const text = f.toString('latin1');
    return text.endsWith('\n') ? text : `${text}\r\n`;
  });
}
