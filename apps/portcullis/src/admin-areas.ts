import { escapeForDisplay } from '@portcullis/contract';

/** Which service serves each admin area: the admin API of a process serves only its own services' areas. */
export const ADMIN_AREAS: Record<string, { service: string; what: string }> = {
  quarantine: { service: 'relay', what: 'quarantine is' },
  trace: { service: 'relay', what: 'trace is' },
  bans: { service: 'edge', what: 'bans are' },
};

/**
 * The admin API answers 404 with the areas it serves when asked for another: then the CLI was
 * pointed at the wrong service's admin listener. Returns the line that says which one to use.
 */
export function wrongServiceLine(area: string, status: number, body: Record<string, unknown>): string | null {
  if (status !== 404 || !Array.isArray(body.areas)) return null;
  const known = ADMIN_AREAS[area];
  const here = (body.areas as unknown[]).map((a) => escapeForDisplay(String(a))).join(', ') || 'nothing';
  return known
    ? `${known.what} served by the ${known.service}: point --url at the ${known.service}'s admin listener (the one at --url serves: ${here})`
    : `no admin area ${escapeForDisplay(area)} at --url (it serves: ${here})`;
}

/** `portcullis bans list|lift`: one line per ban, or what the lift did. */
export function renderBans(verb: string, body: Record<string, unknown>, ip?: string): string {
  const s = (v: unknown) => escapeForDisplay(String(v ?? ''));
  if (verb === 'lift') return body.lifted ? `lifted the ban on ${s(ip)}` : `no ban on ${s(ip)}`;
  const bans = (body.bans ?? []) as Record<string, unknown>[];
  if (bans.length === 0) return '(no bans)';
  return bans.map((b) => `${s(b.ip)}  ${s(b.reason)}  offence ${s(b.offences)}  until ${s(b.until)} (${s(b.remainingSeconds)} s left)  ban ${s(b.id)}`).join('\n');
}
