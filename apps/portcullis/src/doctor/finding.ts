/** One line of the doctor's report: what was checked, and if wrong, why and how to fix it. */
export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export const ok = (check: string, detail: string): Finding => ({ check, ok: true, detail });
export const wrong = (check: string, detail: string, fix: string): Finding => ({ check, ok: false, detail, fix });

export function report(findings: Finding[]): string {
  const lines = findings.map((f) => `${f.ok ? 'ok   ' : 'FAIL '} ${f.check}: ${f.detail}${f.fix ? `\n        fix: ${f.fix}` : ''}`);
  const bad = findings.filter((f) => !f.ok).length;
  lines.push(bad ? `${bad} of ${findings.length} checks failed` : `all ${findings.length} checks passed`);
  return lines.join('\n');
}
