import CFB from 'cfb';

/**
 * Whether an OLE2 compound file (.doc, .xls, .ppt) holds a VBA project: Word keeps it under
 * Macros/VBA, Excel and PowerPoint under _VBA_PROJECT_CUR/VBA; every VBA storage has a
 * _VBA_PROJECT stream. Read with SheetJS's cfb.
 */
export function oleHasMacros(content: Buffer): boolean {
  try {
    const container = CFB.read(content, { type: 'buffer' });
    return container.FullPaths.some((p) => /(^|\/)(_VBA_PROJECT|VBA\/dir|Macros\/VBA)/i.test(p));
  } catch {
    return false;
  }
}

/** Office Open XML with macros keeps them in a vbaProject.bin part (word/, xl/, ppt/). */
export function ooxmlMacroEntry(entryNames: string[]): string | undefined {
  return entryNames.find((n) => /(^|\/)vbaProject\.bin$/i.test(n));
}
