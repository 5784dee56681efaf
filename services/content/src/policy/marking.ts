import type { Marking } from '../verdict.js';
import { headerLines, splitMessage } from '@portcullis/message';
import { withBanner } from './banner.js';

const OUR_HEADERS = /^(x-spam-flag|x-spam-score|x-spam-status|x-portcullis-external):/i;

/**
 * The message as delivered: headers of ours (X-Spam-*, X-Portcullis-External) at the top,
 * the external-mail banner as a first MIME part when one is configured,
 * the same headers from the sender removed (so nobody can forge them), subject prefixes
 * added once. Only the header section is rewritten (as latin1, byte for byte); the body is
 * untouched. A subject change breaks a DKIM signature over Subject, which is why tagging
 * by subject is a choice per policy. Returns the raw message itself when nothing changes.
 */
export function applyMarking(raw: Buffer, marking: Marking, score: number): Buffer {
  const end = splitMessage(raw).headerEnd;
  const list = headerLines(raw.subarray(0, end));
  const forged = list.some((f) => OUR_HEADERS.test(f));
  const prefixes = [marking.external?.subjectPrefix, marking.spam?.prefix].filter((p): p is string => !!p);
  const banner = marking.external?.banner;
  if (!forged && !marking.spam && !marking.external?.header && prefixes.length === 0 && !banner) return raw;
  const added: string[] = [];
  if (marking.spam) added.push('X-Spam-Flag: YES\r\n', `X-Spam-Score: ${score}\r\n`, `X-Spam-Status: Yes, score=${score}\r\n`);
  if (marking.external?.header) added.push('X-Portcullis-External: yes\r\n');
  let kept = list.filter((f) => !OUR_HEADERS.test(f));
  if (prefixes.length) kept = withSubjectPrefix(kept, prefixes.join(' '));
  const marked = Buffer.concat([Buffer.from(added.join('') + kept.join(''), 'latin1'), raw.subarray(end)]);
  return banner ? withBanner(marked, banner) : marked;
}

function withSubjectPrefix(list: string[], prefix: string): string[] {
  const i = list.findIndex((f) => /^subject:/i.test(f));
  if (i < 0) return [...list, `Subject: ${prefix}\r\n`];
  const field = list[i]!;
  const value = field.slice(field.indexOf(':') + 1).replace(/^[ \t]*/, '');
  if (value.startsWith(prefix)) return list;
  const copy = [...list];
  copy[i] = `Subject: ${prefix} ${value}`;
  return copy;
}
