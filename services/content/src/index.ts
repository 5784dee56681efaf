import { Topics, type VerdictReply } from '@portcullis/contract';
import { runStage, type Bus, type Subscription } from '@portcullis/bus';
import type { Config } from '@portcullis/config';
import type { SharedState } from '@portcullis/state';
import type { Logger, Registry } from '@portcullis/telemetry';
import { decide } from './verdict.js';

export interface ContentDeps {
  config: Config;
  bus: Bus;
  state: SharedState;
  logger: Logger;
  registry: Registry;
}

export { decide };

/**
 * The content stage decides the verdict. The decided record is durable before
 * the edge is told, so a verdict the sender hears about is never lost.
 */
export async function startContent(deps: ContentDeps): Promise<Subscription> {
  return runStage(
    deps.bus,
    {
      name: 'content',
      group: 'portcullis-content',
      from: Topics.reputationChecked,
      concurrency: deps.config.stages.concurrency,
      process: async (record) => {
        const verdict = decide(record.meta);
        const decided = { meta: { ...record.meta, verdict }, raw: record.raw };
        const replyTo = record.meta.replyTo;
        return {
          outputs: [{ topic: Topics.decided, record: decided }],
          afterDurable:
            replyTo && Date.parse(replyTo.deadline) > Date.now()
              ? async () => {
                  const reply: VerdictReply = { v: 1, id: record.meta.id, verdict };
                  await deps.state.publish(replyTo.channel, JSON.stringify(reply));
                }
              : undefined,
        };
      },
    },
    deps,
  );
}
