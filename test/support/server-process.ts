/** The life of a server process a test started (InfluxDB, etcd, kube-apiserver, CoreDNS): ready, then stopped. */
import type { ChildProcess } from 'node:child_process';
import { waitFor } from './wait.ts';

/**
 * Waits until `ready()` answers true (an error counts as not yet); fails at once, with
 * `output()`, when the process exits first, and at the deadline.
 */
export async function waitForProcess(
  what: string,
  child: ChildProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  output: () => string = () => '',
): Promise<void> {
  await waitFor(
    `${what} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${what}: exited with ${child.exitCode}:\n${output()}`);
      return ready().catch(() => false);
    },
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw child.exitCode !== null ? err : new Error(`${what}: not ready within ${timeoutMs} ms:\n${output()}`);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
