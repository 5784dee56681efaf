import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import type { Logger } from '@portcullis/telemetry';

export interface BrokerProbe {
  stop(): Promise<void>;
}

/** How often the brokers are asked, and how long an answer may take. */
const EVERY_MS = 2000;
const WITHIN_MS = 5000;

/**
 * Asks the brokers for the cluster's metadata every 2 s, so that /readyz says "not ready" within
 * seconds of losing Kafka (and "ready" as soon as it answers again). kafkajs's producer reports no
 * lost connection until it next sends, and its consumers retry quietly for minutes. The probe has a
 * client of its own with kafkajs's logging off (a dead broker would log every 2 s); it logs once
 * per change instead.
 */
export function startBrokerProbe(opts: { logger: Logger }, config: KafkaConfig, report: (problem: string | null) => void): BrokerProbe {
  const log = opts.logger.child({ component: 'kafka' });
  const kafka = new Kafka({ ...config, clientId: `${config.clientId ?? 'portcullis'}-probe`, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  let admin: Admin | null = null;
  let last: string | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let busy = false;

  const once = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!admin) {
        admin = kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
      }
      const asked = admin.describeCluster();
      asked.catch(() => undefined); // settled by the race below; a late rejection is not unhandled
      await Promise.race([asked, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${WITHIN_MS} ms`)), WITHIN_MS)))]);
      if (last !== null) log.info('kafka answers again');
      last = null;
    } catch (err) {
      const problem = `kafka: ${(err as Error).message}`;
      if (last === null) log.warn({ error: (err as Error).message }, 'kafka does not answer');
      last = problem;
      const old = admin;
      admin = null; // a fresh connection next time
      await old?.disconnect().catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
    if (!stopped) report(last);
  };
  const timer = setInterval(() => {
    if (busy) return; // one question at a time
    busy = true;
    running = once().finally(() => (busy = false));
  }, EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      await (admin as Admin | null)?.disconnect().catch(() => undefined);
    },
  };
}
