/** A kovenant child process fed a generated stream on stdin, with its peak RSS (VmHWM). */
import { readFileSync } from 'node:fs';
import { startCli } from './cli.ts';

export interface MeasuredRun {
  code: number | null;
  stderr: string;
  /** Peak resident set of the child, from /proc/PID/status VmHWM, in MB. */
  peakRssMb: number;
  seconds: number;
}

function vmHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `kovenant ARGS` with `chunks` written to its stdin (as fast as it reads them).
 * VmHWM only grows, so sampling it until the child exits finds the peak (the last
 * reading before exit is at most one sampling interval old: the end is the flush, not
 * the peak, in these streams).
 */
export async function runMeasured(
  args: readonly string[],
  chunks: Iterable<string>,
  extraNodeArgs: readonly string[] = [],
): Promise<MeasuredRun> {
  const started = Date.now();
  const run = startCli(args, { stdin: 'pipe', stdout: 'ignore', nodeArgs: extraNodeArgs });
  const child = run.child;
  let peakKb = 0;
  const sample = (): void => {
    const kb = child.pid === undefined ? undefined : vmHwmKb(child.pid);
    if (kb !== undefined && kb > peakKb) peakKb = kb;
  };
  const timer = setInterval(sample, 50);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const chunk of chunks) {
    if (child.exitCode !== null) break;
    if (!child.stdin!.write(chunk)) await Promise.race([new Promise<void>((resolve) => child.stdin!.once('drain', resolve)), exited]);
    sample();
  }
  child.stdin!.end();
  const code = await exited;
  clearInterval(timer);
  return { code, stderr: run.stderr(), peakRssMb: peakKb / 1024, seconds: (Date.now() - started) / 1000 };
}
