import { parseArgs } from 'node:util';
import { loadConfigFile, readSecretFile } from '@portcullis/config';
import { escapeForDisplay, jsonForDisplay } from '@portcullis/contract';
import { renderBans, wrongServiceLine } from './admin-areas.js';

export const ADMIN_USAGE = `       portcullis quarantine list [--from A] [--rcpt A] [--subject S] [--reason R] [--since T] [--until T] [--limit N]
       portcullis quarantine show|release|delete <id> [--by NAME]
       portcullis quarantine audit
       portcullis quarantine digests      (sends the digests of the last period now; each is sent once)
       portcullis quarantine reindex      (rebuilds the quarantine list in Redis from the quarantine topic; adds only what is missing)
       portcullis trace <id>
       portcullis trace search [--id ID] [--message-id MID] [--from A] [--rcpt A] [--ip IP] [--since T] [--until T] [--limit N]
       portcullis dead-letter list [--partition P] [--from OFFSET] [--limit N]
       portcullis dead-letter show <partition>/<offset>
       portcullis dead-letter replay <partition>/<offset> [--by NAME]   (once per record, to the topic it came from)
       portcullis bans list|lift <ip>      (AUTH lockout bans, shared by every edge)

  quarantine and trace talk to the relay's admin API, bans to the edge's, dead-letter to any process's:
  --url (default http://<http.admin.listen> of the config) and the bearer token in --token-file
  (default http.admin.tokenFile of the config).`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  by: { type: 'string' },
  from: { type: 'string' },
  rcpt: { type: 'string' },
  subject: { type: 'string' },
  reason: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  id: { type: 'string' },
  'message-id': { type: 'string' },
  ip: { type: 'string' },
  partition: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/**
 * Everything printed from a message (subjects, addresses, headers, reasons) is hostile input: control
 * characters and bidi or zero-width characters are written out visibly (\x1b, \u202E), never sent
 * to the terminal. The server escapes too; the CLI does not rely on it.
 */
const safe = (s: unknown) => escapeForDisplay(String(s ?? ''));
const safeText = (s: unknown) => escapeForDisplay(String(s ?? '').replace(/\r\n/g, '\n'), { keepLineBreaks: true });

/** Where to reach a listener from this host: a wildcard address means this host's loopback. */
export function adminUrl(listen: { host: string; port: number }): string {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

/** `portcullis quarantine ...` and `portcullis trace ...`: the operator's side of the admin API. */
export async function adminCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [area, verb, id] = positionals;
  const path = values.config ?? process.env.PORTCULLIS_CONFIG ?? 'config/portcullis.yaml';
  let url = values.url;
  let tokenFile = values['token-file'];
  if (!url || !tokenFile) {
    const admin = loadConfigFile(path).http.admin;
    if (!url && !admin.enabled) {
      console.error(`the admin API is off in ${path}: set http.admin.enabled (and http.admin.listen, http.admin.tokenFile), or give --url`);
      return 2;
    }
    url ??= adminUrl(admin.listen);
    tokenFile ??= admin.tokenFile;
  }
  if (!tokenFile) {
    console.error('no admin token: give --token-file or set http.admin.tokenFile in the config');
    return 2;
  }
  const token = readSecretFile(tokenFile, '--token-file');
  const query = new URLSearchParams();
  const q = (name: string, key: keyof typeof values) => values[key] && query.set(name, String(values[key]));
  for (const k of ['from', 'rcpt', 'subject', 'reason', 'since', 'until', 'limit', 'id', 'ip', 'partition'] as const) q(k, k);
  q('messageId', 'message-id');
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}/admin/${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  let res: { status: number; body: Record<string, unknown> };
  if (area === 'quarantine' && verb === 'list') res = await call('GET', `quarantine?${query}`);
  else if (area === 'quarantine' && verb === 'audit') res = await call('GET', 'quarantine/audit');
  else if (area === 'quarantine' && verb === 'digests') res = await call('POST', 'quarantine/digests', {});
  else if (area === 'quarantine' && verb === 'reindex') res = await call('POST', 'quarantine/reindex', {});
  else if (area === 'quarantine' && verb === 'show' && id) res = await call('GET', `quarantine/${encodeURIComponent(id)}`);
  else if (area === 'quarantine' && verb === 'release' && id)
    res = await call('POST', `quarantine/${encodeURIComponent(id)}/release`, { by: values.by ?? process.env.USER ?? 'cli' });
  else if (area === 'quarantine' && verb === 'delete' && id) res = await call('DELETE', `quarantine/${encodeURIComponent(id)}`, { by: values.by ?? process.env.USER ?? 'cli' });
  else if (area === 'dead-letter' && verb === 'list') res = await call('GET', `dead-letter?${query}`);
  else if (area === 'dead-letter' && verb === 'show' && id) res = await call('GET', `dead-letter/${position(id)}`);
  else if (area === 'dead-letter' && verb === 'replay' && id) res = await call('POST', `dead-letter/${position(id)}/replay`, { by: values.by ?? process.env.USER ?? 'cli' });
  else if (area === 'trace' && verb === 'search') res = await call('GET', `trace?${query}`);
  else if (area === 'trace' && verb) res = await call('GET', `trace/${encodeURIComponent(verb)}`);
  else if (area === 'bans' && verb === 'list') res = await call('GET', 'bans');
  else if (area === 'bans' && verb === 'lift' && id) res = await call('DELETE', `bans/${encodeURIComponent(id)}`);
  else {
    console.error(`usage:\n${ADMIN_USAGE}`);
    return 2;
  }
  const wrongService = wrongServiceLine(area!, res.status, res.body);
  if (wrongService) {
    console.error(wrongService);
    return 1;
  }
  if (values.json) console.log(jsonForDisplay(res.body));
  else if (area === 'bans' && (res.status < 400 || res.status === 404)) console.log(renderBans(verb!, res.body, id));
  else if (res.status >= 400) console.log(jsonForDisplay(res.body));
  else console.log(render(area!, verb!, res.body));
  return res.status < 400 ? 0 : 1;
}

/** A dead-letter position as the list prints it, <partition>/<offset>, as a path. */
const position = (id: string) => id.split('/').map(encodeURIComponent).join('/');

function render(area: string, verb: string, body: Record<string, unknown>): string {
  type Row = Record<string, unknown>;
  if (area === 'dead-letter') {
    const line = (r: Row) =>
      `${safe(r.partition)}/${safe(r.offset)}  ${safe(r.time)}  ${safe(r.messageId)}  ${safe(r.size)} octets  attempts ${safe(r.attempts)}  from ${safe(r.sourceTopic)} ${safe(r.sourcePartition)}/${safe(r.sourceOffset)} (group ${safe(r.group)})${r.replayed ? `  replayed by ${safe((r.replayed as Row).by)} at ${safe((r.replayed as Row).at)}` : ''}\n    reason: ${safe(r.reason)}`;
    if (Array.isArray(body.records)) return body.records.length ? (body.records as Row[]).map(line).join('\n') : '(none)';
    if (verb === 'show')
      return [line({ ...(body.record as Row), replayed: body.replayed }), ...Object.entries(body.headers as Row).map(([k, v]) => `    ${safe(k)}: ${safe(v)}`)].join('\n');
    if (body.replayed) return `replayed to ${safe((body.replayed as Row).to)}: ${line(body.record as Row)}`;
  }
  if (body.reindexed) {
    const r = body.reindexed as Row;
    return `read ${safe(r.read)} record(s) of the quarantine topic: ${safe(r.added)} added to the index, ${safe(r.kept)} already there (or deleted), ${safe(r.unreadable)} unreadable`;
  }
  if (Array.isArray(body.messages)) {
    const rows = body.messages as Row[];
    if (rows.length === 0) return '(none)';
    return area === 'quarantine'
      ? rows
          .map(
            (m) =>
              `${safe(m.id)}  ${safe(m.quarantinedAt)}  ${safe(m.status)}  from <${safe(m.from)}> to ${safe((m.rcpt as string[]).join(', '))}\n    subject: ${safe(m.subject)}\n    reason: ${safe(m.reason)}`,
          )
          .join('\n')
      : rows
          .map(
            (m) =>
              `${safe(m.id)}  ${safe(m.receivedAt)}  ${safe(m.outcome)}  from <${safe(m.from)}> to ${safe((m.rcpt as string[]).join(', '))}  client ${safe(m.clientIp)}${m.subject ? `\n    subject: ${safe(m.subject)}` : ''}`,
          )
          .join('\n');
  }
  if (Array.isArray(body.events)) {
    const s = (body.summary ?? {}) as Row;
    const head = `${safe(s.id)}  ${safe(s.outcome)}  from <${safe(s.from)}> to ${safe(((s.rcpt as string[]) ?? []).join(', '))}  client ${safe(s.clientIp)}  Message-ID ${safe(s.messageId)}`;
    return [
      head,
      ...(body.events as Row[]).map(
        (e) => `  ${safe(e.at)}  ${safe(e.stage)}  ${safe(e.event)}${e.outcome ? ` [${safe(e.outcome)}]` : ''}${e.recipient ? ` <${safe(e.recipient)}>` : ''}  ${safe(e.detail)}`,
      ),
    ].join('\n');
  }
  if (verb === 'show' && body.message) {
    const m = body.message as { headers: { name: string; value: string }[]; text: string; attachments: Row[]; unparsed?: string };
    const unparsed = m.unparsed ? [`(the message could not be parsed: ${safe(m.unparsed)}; shown raw)`] : [];
    return [
      ...unparsed,
      ...m.headers.map((h) => `${safe(h.name)}: ${safe(h.value)}`),
      '',
      safeText(m.text),
      ...m.attachments.map((a) => `[attachment ${safe(a.filename)} ${safe(a.contentType)} ${safe(a.size)} octets]`),
    ].join('\n');
  }
  return jsonForDisplay(body);
}
