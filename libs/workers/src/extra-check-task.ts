import { bufferOf, serveTasks } from './serve.js';

/**
 * The worker that runs the operator's own checks (stages.extraChecks with thread: worker): it
 * imports the module once and calls its default export with the record's metadata and message.
 */
type Check = (input: { meta: unknown; raw: Buffer }) => unknown;
const loaded = new Map<string, Promise<Check>>();

function load(module: string): Promise<Check> {
  let p = loaded.get(module);
  if (!p) {
    p = import(module).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw new Error(`${module} has no default export function`);
      return m.default as Check;
    });
    loaded.set(module, p);
  }
  return p;
}

serveTasks({
  check: async (input: { module: string; meta: unknown; bytes: Uint8Array }) => (await load(input.module))({ meta: input.meta, raw: bufferOf(input.bytes) }),
});
