import { fileTypeFromBuffer } from 'file-type';

export interface FileKind {
  ext: string;
  mime: string;
}

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
const OLE_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');

/** The real type from the content's magic bytes (file-type), or undefined when unknown. */
export async function realKind(content: Buffer): Promise<FileKind | undefined> {
  if (content.length === 0) return undefined;
  const t = await fileTypeFromBuffer(content);
  return t ? { ext: t.ext, mime: t.mime } : undefined;
}

/** Zip containers, whatever file-type calls them (zip, docx, xlsm, jar, apk ...). */
export function isZip(content: Buffer): boolean {
  return content.subarray(0, 4).equals(ZIP_MAGIC);
}

/** OLE2 compound files: the old Office formats (.doc, .xls, .ppt) and .msi. */
export function isOle(content: Buffer): boolean {
  return content.subarray(0, 8).equals(OLE_MAGIC);
}

/** Every extension of a file name, last first: "a.pdf.exe" gives ["exe", "pdf"]. */
export function extensions(filename: string): string[] {
  const base = filename.trim().toLowerCase().split(/[\\/]/).pop() ?? '';
  return base
    .split('.')
    .slice(1)
    .map((e) => e.trim())
    .filter(Boolean)
    .reverse();
}

/** Types that may legitimately carry each other's extension (a .docx is a zip, and so on). */
const SAME_FAMILY: Record<string, string[]> = {
  zip: ['docx', 'docm', 'xlsx', 'xlsm', 'pptx', 'pptm', 'odt', 'ods', 'odp', 'jar', 'apk', 'epub', 'zip'],
  cfb: ['doc', 'xls', 'ppt', 'msg', 'msi', 'dot', 'xlt', 'pot'],
  jpg: ['jpeg', 'jpe', 'jfif'],
  tif: ['tiff'],
  xml: ['svg', 'xml'],
};

export function declaredMatchesReal(declaredExt: string, real: FileKind): boolean {
  if (declaredExt === real.ext) return true;
  return (SAME_FAMILY[real.ext] ?? []).includes(declaredExt) || (SAME_FAMILY[declaredExt] ?? []).includes(real.ext);
}
