import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { freePort } from './gateway.js';
import { waitFor } from './wait.js';

/**
 * A Redis of a test's own (redis-server from the machine, installed by
 * test/infra/redis.sh), for tests that stop and start it: the shared one
 * must stay up for the test files running beside.
 */
export class OwnRedis {
  private child: ChildProcess | null = null;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis-server on ${this.port}`, () => this.ping(), 10_000, 100);
  }

  ping(): boolean {
    try {
      return execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8', timeout: 2000 }).trim() === 'PONG';
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}
