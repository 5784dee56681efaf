/**
 * The content stage's time per message with both real engines (clamd and rspamd from
 * test/infra) and every rule on: one message at a time through contentStep (parse, clamd
 * INSTREAM, rspamd /checkv2, attachment and phishing rules, verdict, marking), at 4 KiB
 * (a text message) and 1 MiB (text plus a base64 PDF attachment).
 *
 *   make bench            (BENCH_CONTENT_MESSAGES: messages per size, default 300 small / 60 large)
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '@portcullis/config';
import { sampleMeta } from '@portcullis/contract/testing';
import { contentStep, createScanner } from '@portcullis/content';
import { CLAMD, RSPAMD } from '../support/scanners.js';
import { percentile } from '../support/stats.js';

const config = parseConfig({
  hostname: 'mx.bench',
  domains: [{ name: 'example.test' }],
  content: { antivirus: { enabled: true, address: CLAMD }, antispam: { enabled: true, url: RSPAMD }, phishing: { protectedDomains: ['bank.example'] } },
});
const scanner = createScanner(config);

function message(n: number, bytes: number): Buffer {
  const head = `From: News <news@sender.example>\r\nTo: user@example.test\r\nSubject: bench ${n}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench${n}@sender.example>\r\nMIME-Version: 1.0\r\n`;
  const html = '<p>Monthly report attached. <a href="https://www.sender.example/report">www.sender.example/report</a></p>\r\n';
  const text = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n';
  if (bytes <= 64 * 1024) {
    const body = text.repeat(Math.ceil(bytes / text.length));
    return Buffer.from(`${head}Content-Type: text/plain\r\n\r\n${body}`).subarray(0, bytes);
  }
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(Math.floor((bytes * 3) / 4) - 2048)]);
  const b64 = pdf.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from(
    `${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n${html}--b\r\nContent-Type: application/pdf; name="report.pdf"\r\nContent-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}--b--\r\n`,
  );
}

async function measure(label: string, bytes: number, count: number) {
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < count + 5; i++) {
    const raw = message(i, bytes);
    size = raw.length;
    // A client whose reverse DNS the edge confirmed, so rspamd is given it and makes no look-up
    // of its own (offline here, a look-up fails, and now and then only after 1 s).
    const rec = { meta: sampleMeta({ size: raw.length, envelope: { client: { ip: '192.0.2.1', port: 40000, hostname: 'mail.sender.example' } } }), raw };
    const t0 = performance.now();
    const d = await contentStep(scanner, config, rec);
    const ms = performance.now() - t0;
    if (d.meta.verdict?.action !== 'deliver') throw new Error(`bench message not delivered: ${d.meta.verdict?.reason}`);
    const engines = d.meta.results.filter((r) => r.check === 'content.antivirus' || r.check === 'content.antispam');
    if (engines.some((r) => r.outcome !== 'pass')) throw new Error(`an engine did not scan: ${engines.map((r) => r.reason).join('; ')}`);
    if (i >= 5) times.push(ms); // the first few warm up connections and JIT
  }
  times.sort((a, b) => a - b);
  return { label, bytes: size, messages: count, p50Ms: +percentile(times, 50).toFixed(1), p99Ms: +percentile(times, 99).toFixed(1), maxMs: +times[times.length - 1]!.toFixed(1) };
}

const n = process.env.BENCH_CONTENT_MESSAGES ? Number(process.env.BENCH_CONTENT_MESSAGES) : undefined;
const results = [await measure('4 KiB', 4096, n ?? 300), await measure('1 MiB', 1024 * 1024, n ? Math.max(10, Math.floor(n / 5)) : 60)];
console.log(JSON.stringify({ bench: 'content stage, clamd + rspamd + rules, one message at a time', clamd: CLAMD, rspamd: RSPAMD, results }, null, 2));
