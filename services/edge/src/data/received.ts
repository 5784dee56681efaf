/** RFC 5322 date-time in UTC with a numeric zone. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * Keeps client-supplied text (HELO, reverse DNS name, SNI, recipient) from breaking the header, its
 * comments or the reader's screen. RFC 5321 4.4 allows only a domain or an address literal after
 * "from"; printable ASCII passes, except the comment breakers ( ) \ and % itself. Everything else
 * (controls, CR and LF, 8-bit, bidi overrides, spaces) is written as %XX per UTF-8 octet, so the header stays
 * ASCII on one folded line and an operator still sees what the client sent. The result is cut at
 * max octets, never inside an escape.
 */
function clean(text: string, max = 255): string {
  let out = '';
  for (const c of text) {
    const kept = /^[\x21-\x7e]$/.test(c) && c !== '(' && c !== ')' && c !== '\\' && c !== '%';
    const piece = kept ? c : [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}

export interface ReceivedInfo {
  helo: string;
  clientIp: string;
  clientHostname?: string;
  by: string;
  /** RFC 3848 protocol: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
  protocol: string;
  tls?: { version: string; cipher: string; sni?: string } | null;
  id: string;
  /** W3C trace id of the message, so an operator can go from the mail to its trace. */
  traceId?: string;
  recipients: string[];
  date: Date;
}

/**
 * The trace header of RFC 5321 4.4, folded to stay under 78 columns. The
 * recipient is named only when there is one (naming several would leak the
 * other recipients of a message to each of them).
 */
export function receivedHeader(info: ReceivedInfo): Buffer {
  const from = `from ${clean(info.helo) || 'unknown'} (${info.clientHostname ? clean(info.clientHostname) + ' ' : ''}[${info.clientIp}])`;
  const sni = info.tls?.sni ? ` for SNI ${clean(info.tls.sni)}` : '';
  const tls = info.tls ? `\r\n\t(using ${clean(info.tls.version)} with cipher ${clean(info.tls.cipher)}${sni})` : '';
  const by = `by ${info.by} (Portcullis) with ${info.protocol} id ${info.id}`;
  const forClause = info.recipients.length === 1 ? `\r\n\tfor <${clean(info.recipients[0]!)}>` : '';
  const traceClause = info.traceId ? `\r\n\t(trace ${clean(info.traceId)})` : '';
  return Buffer.from(`Received: ${from}${tls}\r\n\t${by}${traceClause}${forClause};\r\n\t${rfc5322Date(info.date)}\r\n`, 'utf8');
}
