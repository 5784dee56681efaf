/**
 * Test messages for the auth stage (`@portcullis/auth/testing`, never imported by service code), signed with the fixture keys whose public
 * halves are in test/infra/dns/zones (rsa._domainkey, ed._domainkey, arc._domainkey).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { authenticate, dkimSign, sealMessage } from 'mailauth';

export const keyDir = fileURLToPath(new URL('../../test/fixtures/keys/', import.meta.url));
export const KEYS = {
  rsa: readFileSync(`${keyDir}rsa.pem`, 'utf8'),
  ed: readFileSync(`${keyDir}ed25519.pem`, 'utf8'),
  arc: readFileSync(`${keyDir}arc.pem`, 'utf8'),
};

export interface MessageSpec {
  /** One From header per entry; [] for none. */
  from?: string[];
  subject?: string;
  body?: string;
  headers?: string[];
}

export function message(spec: MessageSpec = {}): Buffer {
  const from = spec.from ?? ['Alice <alice@dmarc-reject.test>'];
  const lines = [
    ...(spec.headers ?? []),
    ...from.map((f) => `From: ${f}`),
    'To: bob@example.test',
    `Subject: ${spec.subject ?? 'Quarterly figures'}`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${spec.body ?? 'Hello Bob,\r\nthe figures are attached.\r\n'}`);
}

/** Adds a DKIM-Signature by domain with the rsa or ed selector. */
export async function sign(raw: Buffer, domain: string, selector: 'rsa' | 'ed' = 'rsa', key?: string): Promise<Buffer> {
  const privateKey = key ?? (selector === 'rsa' ? KEYS.rsa : KEYS.ed);
  const res = await dkimSign(raw, { signatureData: [{ signingDomain: domain, selector, privateKey }] } as unknown as Parameters<typeof dkimSign>[1]);
  if (res.errors.length || !res.signatures) throw new Error(`signing failed: ${JSON.stringify(res.errors)}`);
  return Buffer.concat([Buffer.from(res.signatures), raw]);
}

/**
 * What a mailing list at forwarder.test does: receives the message (checking it,
 * offline here: the results are given), adds a footer, and seals it with ARC.
 */
export async function forwardWithArc(raw: Buffer, authResults: string): Promise<Buffer> {
  const text = raw.toString();
  const modified = Buffer.from(`${text}\r\n-- \r\nlist footer, added by forwarder.test\r\n`);
  const headers = await sealMessage(modified, {
    signingDomain: 'forwarder.test',
    selector: 'arc',
    privateKey: KEYS.arc,
    cv: 'none',
    authResults,
  } as Parameters<typeof sealMessage>[1]);
  return Buffer.concat([headers, modified]);
}

export { authenticate };
