import { exampleText, type AnyReplyEntry } from './reply.js';
import { catalogue } from './catalogue/index.js';

/** Where the generated table sits in docs/replies.md. */
export const TABLE_BEGIN = '<!-- replies:begin (generated from the catalogue by scripts/replies-doc.mjs: do not edit) -->';
export const TABLE_END = '<!-- replies:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function row(e: AnyReplyEntry): string {
  const writer = e.writer === 'smtp-server' ? " (smtp-server's text)" : '';
  const closes = e.disconnect ? ', closes' : '';
  return `| \`${e.id}\` | ${e.code} ${e.enhanced}${closes} | \`${cell(exampleText(e))}\`${writer} | ${e.checks.map((c) => `\`${c}\``).join(', ')} |`;
}

/** The operators' table of every reply, one section per stage, texts rendered with their example arguments. */
export function renderReplyTable(entries: readonly AnyReplyEntry[] = catalogue): string {
  const stages = [...new Set(entries.map((e) => e.stage))];
  const sections = stages.map((stage) => {
    const rows = entries.filter((e) => e.stage === stage).map(row);
    return [`### ${stage}`, '', '| id | reply | text (example) | sent by |', '| --- | --- | --- | --- |', ...rows].join('\n');
  });
  return [TABLE_BEGIN, '', sections.join('\n\n'), '', TABLE_END].join('\n');
}

/** `doc` with its generated table replaced by a fresh one. */
export function withFreshTable(doc: string): string {
  const begin = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error('docs/replies.md has no generated table markers');
  return doc.slice(0, begin) + renderReplyTable() + doc.slice(end + TABLE_END.length);
}
