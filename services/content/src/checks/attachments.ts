import { demand, result, type CheckResult } from '@portcullis/contract';
import type { ContentCheck, ContentConfig, ScanContext } from './context.js';
import type { Part } from '@portcullis/message';
import { declaredMatchesReal, extensions, isOle, isZip, realKind } from './file-kind.js';
import { oleHasMacros, ooxmlMacroEntry } from './macros.js';
import { listZip } from './zip-entries.js';

type Rule = 'reject' | 'quarantine' | 'score';
/** Score of a finding whose policy is "score", and of a declared type that is not the real one. */
const FINDING_SCORE = 5;
const MISMATCH_SCORE = 3;

/**
 * content.attachments: blocked extensions (also as the inner extension of a double one and
 * inside zip archives), the real type from magic bytes against the declared name, encrypted
 * archives, Office macros (OLE and OOXML), per-part and total sizes.
 */
export const checkAttachments: ContentCheck = async (ctx) => {
  const a = ctx.config.attachments;
  const found: CheckResult[] = [];
  const add = (rule: Rule, reason: string, code = '5.7.1', score = FINDING_SCORE): void => void found.push(finding(rule, reason, code, score, ctx.now));
  let total = 0;
  for (const part of ctx.parsed.parts) {
    total += part.size;
    const name = part.filename || '(unnamed attachment)';
    if (part.size > a.maxPartBytes) add('reject', `attachment ${name} is larger than ${a.maxPartBytes} bytes`, '5.3.4');
    await inspectPart(part, name, ctx.config, add);
  }
  if (total > a.maxTotalBytes) add('reject', `attachments total ${total} bytes, more than ${a.maxTotalBytes}`, '5.3.4');
  if (found.length > 0) return found;
  const n = ctx.parsed.parts.length;
  return [result('content', 'content.attachments', n ? 'pass' : 'none', n ? `${n} attachment(s), none blocked` : 'no attachments', 0, ctx.now)];
};

type Add = (rule: Rule, reason: string, code?: string, score?: number) => void;

async function inspectPart(part: Part, name: string, config: ContentConfig, add: Add): Promise<void> {
  const a = config.attachments;
  const exts = extensions(part.filename);
  const blockedExt = exts.find((e) => a.blockedExtensions.includes(e));
  if (blockedExt) {
    const double = exts.length > 1 && exts[0] === blockedExt ? ' (double extension)' : '';
    add(a.blocked, `attachment ${name} has a blocked file type (.${blockedExt})${double}`);
  }
  const real = await realKind(part.content);
  if (real && (a.blockedExtensions.includes(real.ext) || a.blockedTypes.includes(real.mime))) {
    if (!blockedExt) add(a.blocked, `attachment ${name} is really a blocked file type (${real.ext}) under another name`);
  } else if (real && exts[0] && !declaredMatchesReal(exts[0], real)) {
    add('score', `attachment ${name} is named .${exts[0]} but is ${real.ext}`, '5.7.1', MISMATCH_SCORE);
  }
  if (part.truncated) return; // larger than maxInspectBytes: sized, named and typed, not opened
  if (isOle(part.content) && oleHasMacros(part.content)) add(a.macros, `attachment ${name} is an Office document with macros`);
  if (isZip(part.content)) await inspectZip(part.content, name, config, add);
}

async function inspectZip(content: Buffer, name: string, config: ContentConfig, add: Add): Promise<void> {
  const a = config.attachments;
  let listing;
  try {
    listing = await listZip(content, a.maxArchiveEntries);
  } catch {
    return add('score', `attachment ${name} looks like a zip archive but cannot be read`);
  }
  const macro = ooxmlMacroEntry(listing.entries.map((e) => e.name));
  if (macro) add(a.macros, `attachment ${name} is an Office document with macros (${macro})`);
  if (listing.entries.some((e) => e.encrypted)) add(a.encryptedArchives, `attachment ${name} is an encrypted archive that cannot be scanned`);
  if (listing.truncated) add('score', `archive ${name} has more than ${a.maxArchiveEntries} entries`);
  for (const entry of listing.entries) {
    const exts = extensions(entry.name);
    const real = entry.head.length ? await realKind(entry.head) : undefined;
    const blocked =
      exts.find((e) => a.blockedExtensions.includes(e)) ?? (real && (a.blockedExtensions.includes(real.ext) || a.blockedTypes.includes(real.mime)) ? real.ext : undefined);
    if (blocked) add(a.blocked, `archive ${name} contains ${entry.name}, a blocked file type (${blocked})`);
    if (isOle(entry.head) && /\.(doc|xls|ppt|dot|xlt)$/i.test(entry.name)) add('score', `archive ${name} contains an old-format Office document (${entry.name})`, '5.7.1', 1);
  }
}

function finding(rule: Rule, reason: string, code: string, score: number, now: Date): CheckResult {
  const base = result('content', 'content.attachments', 'fail', reason, rule === 'score' ? score : 0, now);
  return rule === 'score' ? base : demand(base, rule, code);
}
