/** The one reading of the time bounds of an admin search (quarantine and trace): ISO 8601 or RFC 2822 dates. */
export function timeBoundsError(query: Partial<Record<'since' | 'until', string>>): string | null {
  for (const k of ['since', 'until'] as const) {
    const v = query[k];
    if (v && Number.isNaN(Date.parse(v))) return `${k} is not a time: ${v.slice(0, 100)}`;
  }
  return null;
}
