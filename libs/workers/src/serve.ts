import { isMainThread, parentPort } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The worker side of a pool: a task module calls serveTasks with its handlers. Kept free of
 * everything heavy (no telemetry, no config) so a worker starts quickly and holds little.
 */

const TRANSFER = Symbol.for('portcullis.workers.transfer');

interface Transferring {
  [TRANSFER]: true;
  value: unknown;
  transfer: ArrayBuffer[];
}

/** A result whose buffers move to the main thread instead of being copied (they must not be pooled). */
export function transferring<T>(value: T, transfer: ArrayBuffer[]): T {
  return { [TRANSFER]: true, value, transfer } as unknown as T;
}

function isTransferring(v: unknown): v is Transferring {
  return typeof v === 'object' && v !== null && (v as Partial<Transferring>)[TRANSFER] === true;
}

export interface TaskRequest {
  id: number;
  task: string;
  input: unknown;
}

export type TaskReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** Task name to handler; a handler's input is whatever its callers send (checked by them, typed here). */
export type TaskHandlers = Record<string, (input: never) => unknown>;

/** A Buffer over bytes that arrived by transfer: no copy. */
export function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * This worker thread below the main thread in the OS scheduler (10 nice steps lower, Linux only). Parsing a
 * large message keeps a worker busy for hundreds of ms; with two or more of them on a 2-core
 * machine, the main thread, which serves SMTP, waited for a core 10-50 ms at a time (measured:
 * blocks of the event loop with little of the main thread's own CPU in them). Below it, the
 * workers take what the main thread leaves. Linux's setpriority takes a thread's id for that
 * thread alone; the id is read from /proc/thread-self. Elsewhere, or if refused, nothing changes.
 */
export function lowerThreadPriority(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    // Relative to what the process runs at (an operator's own nice is kept), at most 19.
    setPriority(tid, Math.min(19, getPriority(tid) + 10));
    return tid;
  } catch {
    return null;
  }
}

export function serveTasks(handlers: TaskHandlers): void {
  if (isMainThread || !parentPort) throw new Error('serveTasks runs inside a worker thread');
  lowerThreadPriority();
  const port = parentPort;
  const answer = async ({ id, task, input }: TaskRequest): Promise<void> => {
    try {
      const handler = handlers[task];
      if (!handler) throw new Error(`unknown task ${task}`);
      const out = await handler(input as never);
      if (isTransferring(out)) port.postMessage({ id, ok: true, value: out.value } satisfies TaskReply, out.transfer);
      else port.postMessage({ id, ok: true, value: out } satisfies TaskReply);
    } catch (err) {
      port.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies TaskReply);
    }
  };
  port.on('message', (req: TaskRequest) => void answer(req));
}
