/**
 * Building the reputation stage in tests (`@portcullis/reputation/testing`, never imported by
 * service code): the stage's check deps over a given resolver, with the message parsed in a worker
 * pool as in the stage (close it after the tests), and a message whose links hide listed domains
 * (the stage's unit tests, test/e2e/reputation.test.ts and test/bench/reputation.ts send it).
 */
import { ConfigSchema, type Config } from '@portcullis/config';
import type { DnsResolver } from '@portcullis/dns';
import type { SharedState } from '@portcullis/state';
import { createLogger, createRegistry, type Registry } from '@portcullis/telemetry';
import { WorkerPool } from '@portcullis/workers';
import { LINKS_TASK, workerLinkReader } from './links-reader.js';
import { LocalLists } from './local-lists.js';
import { reputationMetrics } from './metrics.js';
import type { CheckDeps } from './reputation-check.js';
import { SenderHistory } from './sender-history.js';

/** A small parsing pool for tests (two workers). */
export function testPool(registry: Registry = createRegistry()): WorkerPool {
  return new WorkerPool({ name: 'reputation', module: LINKS_TASK, size: 2, maxQueued: 64, registry, logger: createLogger({ level: 'silent', service: 'test' }) });
}

export interface TestCheckOptions {
  dns: DnsResolver;
  pool: WorkerPool;
  /** The reputation section as an operator writes it. */
  reputation?: Record<string, unknown>;
  /** Sender history in this state when given. */
  state?: SharedState;
  /** The look-ups counted here when given (as the stage counts them). */
  registry?: Registry;
  ours?: string[];
}

/** The deps checkReputation takes, as the stage builds them (checkDepsOf), from a reputation section. */
export function testCheckDeps(o: TestCheckOptions): CheckDeps & { config: Config['reputation'] } {
  const config = ConfigSchema.shape.reputation.parse(o.reputation ?? {});
  return {
    links: workerLinkReader(o.pool),
    dns: o.dns,
    ...(o.registry ? { metrics: reputationMetrics(o.registry).lookups } : {}),
    config,
    ours: new Set(o.ours ?? ['example.test']),
    local: new LocalLists(config),
    history: o.state ? new SenderHistory(o.state, config.history) : null,
  };
}

/**
 * A message whose links hide domains behind each trick spammers use. Each hidden domain is
 * distinct, so a test can tell which trick was seen through. The test list zone
 * (test/infra/dns/zones/uribl.portcullis.test.zone) lists every one of them.
 */
export const HIDDEN = {
  quotedPrintable: 'qp-hidden.example',
  base64Html: 'b64-hidden.example',
  percentEncodedHost: 'pct-hidden.example',
  percentEncodedLink: 'pctlink-hidden.example',
  idn: 'xn--bcher-spam-9db.example', // bücher-spam.example
  redirectWrapper: 'wrapped-hidden.example',
  safelinks: 'safelinks-hidden.example',
  visibleText: 'visible-hidden.example',
  entity: 'entity-hidden.example',
  openRedirect: 'openredirect-hidden.example',
} as const;

const html = `<html><body>
<p>Dear customer, <a href="http://b64-hidden.example/offer">click</a></p>
<p><a href="http://%70ct-hidden.example/">percent host</a></p>
<p><a href="http%3A%2F%2Fpctlink-hidden.example%2Fx">percent link</a></p>
<p><a href="http://b\u00fccher-spam.example/">IDN</a></p>
<p><a href="https://www.google.com/url?q=https%3A%2F%2Fwrapped-hidden.example%2Fpath&amp;sa=D">wrapped</a></p>
<p><a href="https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fsafelinks-hidden.example%2F&amp;data=x">safe</a></p>
<p><a href="http://innocent.example/">www.visible-hidden.example</a></p>
<p><a href="&#104;ttp://entity-hidden.example/">entity</a></p>
<p><a href="https://innocent.example/go?to=https://openredirect-hidden.example/">go</a></p>
<p><a href="https://bit.ly/3abcdef">short</a> and <a href="http://3232235777/">ip</a> and <a href="http://0x7f.0.0.1/">hex ip</a></p>
<script>var x = "http://script-only.example/";</script>
</body></html>`;

function wrap76(s: string): string {
  return s.replace(/.{1,76}/g, '$&\r\n');
}

export function obfuscatedMessage(from = 'offers@sender.example'): Buffer {
  const htmlB64 = wrap76(Buffer.from(html, 'utf8').toString('base64'));
  const text = ['Visit http://qp-hid=', 'den.example/deal today=3D now.', ''].join('\r\n');
  return Buffer.from(
    [
      `From: Offers <${from}>`,
      'Reply-To: replies@replyto.example',
      'To: postmaster@example.test',
      'Subject: offers',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      text,
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      htmlB64,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}
