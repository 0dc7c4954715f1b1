/** Helpers of the daemon tests: a kovenant child process and line protocol parsing. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from '../support/cli.ts';

export { BIN };

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  timeNs: bigint;
}

/**
 * Enough of line protocol for kovenant's own output (no escaped characters in these tests).
 * `kovenant_source` (the daemon's account of its input, which replay does not write) is
 * left out unless `withSource`, so that daemon output compares with replay output.
 */
export function parseLineProtocol(text: string, options: { withSource?: boolean } = {}): ParsedPoint[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && (options.withSource || !l.startsWith('kovenant_source,')))
    .map((line) => {
      const [head, fieldText, ts] = line.split(' ');
      const [measurement, ...tagPairs] = head!.split(',');
      const tags = Object.fromEntries(tagPairs.map((p) => p.split('=') as [string, string]));
      const fields = Object.fromEntries(fieldText!.split(',').map((p) => {
        const [k, v] = p.split('=') as [string, string];
        return [k, Number(v.endsWith('i') ? v.slice(0, -1) : v)];
      }));
      return { measurement: measurement!, tags, fields, timeNs: BigInt(ts!) };
    });
}

export interface Daemon {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr contains `text`. */
  waitForLog(text: string, timeoutMs: number): Promise<void>;
  exited(timeoutMs: number): Promise<number | null>;
  kill(): void;
}

export function startDaemon(argvPrefix: string[], args: string[], env: NodeJS.ProcessEnv = {}, stdin: 'ignore' | 'pipe' = 'ignore'): Daemon {
  const [cmd, ...rest] = [...argvPrefix, process.execPath, BIN, ...args];
  const child = spawn(cmd!, rest, { stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exitedP = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForLog(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!err.includes(text)) {
        if (child.exitCode !== null) throw new Error(`daemon exited (${child.exitCode}) before logging "${text}": ${err}`);
        if (Date.now() > deadline) throw new Error(`daemon did not log "${text}" within ${timeoutMs} ms: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    exited(timeoutMs) {
      return Promise.race([
        exitedP,
        new Promise<number | null>((_, rej) => setTimeout(() => rej(new Error(`daemon still running after ${timeoutMs} ms: ${err}`)), timeoutMs).unref()),
      ]);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The daemon's /metrics text (started with --metrics-addr 127.0.0.1:0: the port is in its log). */
export async function daemonMetrics(daemon: Daemon): Promise<string> {
  const port = /"msg":"metrics listening".*?"port":(\d+)|"port":(\d+).*?"msg":"metrics listening"/.exec(daemon.stderr());
  if (!port) throw new Error(`the daemon has not logged its metrics port: ${daemon.stderr()}`);
  const res = await fetch(`http://127.0.0.1:${port[1] ?? port[2]}/metrics`);
  return res.text();
}

/** The value of an unlabelled sample in Prometheus text; undefined when absent. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
