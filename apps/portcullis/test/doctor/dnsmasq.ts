import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';

/** A real DNS server (Debian's dnsmasq) answering authoritatively for test zones on loopback. */
export interface TestDns {
  server: string;
  stop(): Promise<void>;
}

export const DNS_PORT = Number(process.env.PORTCULLIS_TEST_DOCTOR_DNS_PORT ?? 15373 + Number(process.env.PORTCULLIS_TEST_PORT_OFFSET ?? 0));

/** port: each test file that runs a server gets its own (files run two at a time). */
export async function startDns(opts: { port?: number; zones: string[]; mx?: [string, string, number][]; a?: [string, string][]; txt?: [string, string][] }): Promise<TestDns> {
  const port = opts.port ?? DNS_PORT;
  const bin = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));
  if (!bin) throw new Error('dnsmasq not installed: run bash test/infra/dnsmasq.sh install (make test does)');
  const args = ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
    `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--log-facility=-',
    ...opts.zones.map((z) => `--local=/${z}/`),
    ...(opts.mx ?? []).map(([name, host, pref]) => `--mx-host=${name},${host},${pref}`),
    ...(opts.a ?? []).map(([name, ip]) => `--host-record=${name},${ip}`),
    // No shell in between: the text goes as it is (a comma would split it into strings).
    ...(opts.txt ?? []).map(([name, text]) => `--txt-record=${name},${text}`)];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForAnswer(child, port, () => stderr);
  return {
    server: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** Waits until the port answers a query (dnsmasq binds after parsing its options). */
async function waitForAnswer(child: ChildProcess, port: number, stderr: () => string): Promise<void> {
  const query = Buffer.from('abcd01000001000000000000' + '0474657374' + '00' + '00010001', 'hex');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr()}`);
    const answered = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      const t = setTimeout(() => (s.close(), resolve(false)), 100);
      s.once('message', () => (clearTimeout(t), s.close(), resolve(true)));
      s.send(query, port, '127.0.0.1');
    });
    if (answered) return;
  }
  throw new Error(`dnsmasq did not answer on ${port}: ${stderr()}`);
}
