/**
 * A swarm of hostile SMTP sessions, run as its own process (see startSwarm) so that it can have a
 * file-descriptor limit of its own and so that its event loop does not slow the test's honest
 * client. Each session connects from its own loopback address (Linux routes all of 127/8 to lo),
 * waits for the greeting and then:
 *   idle       says nothing;
 *   ehlo-idle  sends EHLO, then says nothing;
 *   drip       sends one byte every dripMs, never ending a line.
 * Sessions open in waves of `wave` at once (each wave waits for its greetings). The swarm reports
 * over IPC how each session ended: the first and the last reply line it received.
 */
import net from 'node:net';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type SwarmMode = 'idle' | 'ehlo-idle' | 'drip';

export interface SwarmPlan {
  port: number;
  /** One source address per session. */
  addresses: string[];
  modes: SwarmMode[];
  wave: number;
  dripMs: number;
}

export interface SessionOutcome {
  address: string;
  mode: SwarmMode;
  /** The first reply line (the greeting or a refusal), '' if none came. */
  first: string;
  /** The last reply line before the server closed, '' if none. */
  last: string;
  /** Still connected when reported. */
  open: boolean;
  /** connect() failed (e.g. out of file descriptors). */
  error?: string;
}

type ToSwarm = { type: 'stop' };
type FromSwarm = { type: 'opened'; ms: number } | { type: 'report'; outcomes: SessionOutcome[] };

// ------------------------------------------------------------------------------------------ the swarm process

class Session {
  readonly outcome: SessionOutcome;
  private buffer = '';
  private drip: NodeJS.Timeout | null = null;
  readonly socket: net.Socket;
  readonly greeted: Promise<void>;

  constructor(plan: SwarmPlan, index: number) {
    const address = plan.addresses[index]!;
    const mode = plan.modes[index % plan.modes.length]!;
    this.outcome = { address, mode, first: '', last: '', open: true };
    this.socket = net.connect({ port: plan.port, host: '127.0.0.1', localAddress: address });
    this.greeted = new Promise<void>((resolve) => {
      const done = () => resolve();
      this.socket.once('close', done);
      this.onLine = (line) => {
        if (!this.outcome.first) {
          this.outcome.first = line;
          resolve();
          if (line.startsWith('220')) this.start(mode, plan.dripMs);
        }
        this.outcome.last = line;
      };
    });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        this.onLine(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 2);
      }
    });
    this.socket.on('error', (err) => {
      if (!this.outcome.first && !this.outcome.error) this.outcome.error = err.message;
    });
    this.socket.on('close', () => {
      this.outcome.open = false;
      if (this.drip) clearInterval(this.drip);
    });
    this.socket.on('end', () => this.socket.destroy());
  }

  private onLine: (line: string) => void = () => {};

  private start(mode: SwarmMode, dripMs: number): void {
    if (mode === 'ehlo-idle') this.socket.write('EHLO idle.example\r\n');
    if (mode === 'drip') {
      const text = 'NOOP-never-ending-';
      let i = 0;
      this.drip = setInterval(() => {
        if (!this.socket.destroyed) this.socket.write(text[i++ % text.length]!);
      }, dripMs);
    }
  }
}

async function runSwarm(plan: SwarmPlan): Promise<void> {
  const send = (m: FromSwarm, then?: () => void) => process.send?.(m, undefined, {}, () => then?.());
  const sessions: Session[] = [];
  const started = Date.now();
  for (let i = 0; i < plan.addresses.length; i += plan.wave) {
    const wave: Session[] = [];
    for (let j = i; j < Math.min(i + plan.wave, plan.addresses.length); j++) wave.push(new Session(plan, j));
    sessions.push(...wave);
    await Promise.race([Promise.all(wave.map((s) => s.greeted)), new Promise((r) => setTimeout(r, 10_000))]);
  }
  send({ type: 'opened', ms: Date.now() - started });
  process.on('message', (m: ToSwarm) => {
    if (m.type !== 'stop') return;
    const outcomes = sessions.map((s) => ({ ...s.outcome }));
    for (const s of sessions) s.socket.destroy();
    // Exit only once the report (a few hundred KiB) has been written to the channel.
    send({ type: 'report', outcomes }, () => process.exit(0));
  });
}

// ------------------------------------------------------------------------------------------ the test's side

export interface Swarm {
  /** Resolves once every session has been opened (and greeted or refused). */
  opened: Promise<number>;
  /** Closes every session and returns how each ended. */
  stop(): Promise<SessionOutcome[]>;
}

/**
 * The soft and hard limits on open files of a shell started by us (Node has no getrlimit). Node
 * itself raises its soft limit to the hard one at start, so the limit that matters for the
 * swarm's node is the hard one; the soft one is raised explicitly anyway, in case a runtime does not.
 */
export function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const v = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/**
 * Starts the swarm in its own process, with the soft limit on open files raised to `files` (one
 * per session plus margin) when it is lower; fails when the hard limit does not allow it.
 */
export function startSwarm(plan: SwarmPlan): Swarm {
  const files = plan.addresses.length + 256;
  const { soft, hard } = fileLimits();
  if (hard < files) throw new Error(`the swarm needs ${files} open files and the hard limit (ulimit -Hn) is ${hard}`);
  const script = fileURLToPath(import.meta.url);
  // exec keeps the IPC channel (its descriptor and NODE_CHANNEL_FD) for the node that replaces sh.
  const raise = soft < files ? `ulimit -S -n ${files} && ` : '';
  const child: ChildProcess = spawn('sh', ['-c', `${raise}exec "$0" "$1" "$2"`, process.execPath, script, JSON.stringify(plan)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onReport: (o: SessionOutcome[]) => void = () => {};
  const report = new Promise<SessionOutcome[]>((resolve) => (onReport = resolve));
  const opened = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the swarm exited early (${code})`)));
    child.on('message', (m: FromSwarm) => {
      if (m.type === 'opened') resolve(m.ms);
      if (m.type === 'report') onReport(m.outcomes);
    });
  });
  opened.catch(() => {});
  return {
    opened,
    stop: async () => {
      if (child.exitCode !== null || !child.connected) throw new Error('the swarm is gone');
      child.send({ type: 'stop' } satisfies ToSwarm);
      const outcomes = await Promise.race([report, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no report from the swarm')), 10_000))]);
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      return outcomes;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  void runSwarm(JSON.parse(process.argv[2]) as SwarmPlan);
}
