/** A real CoreDNS (built by `npm run tools:coredns`) on loopback, for the dnstap tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { freePort } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

export const COREDNS_BIN = resolve(import.meta.dirname, '../../.tools/bin/coredns');
export const COREDNS_HINT = `${COREDNS_BIN} is missing: run npm run tools:coredns (needs Go) to run the real-CoreDNS tests`;

export interface CoreDns {
  port: number;
  /** A node resolver asking this CoreDNS only. */
  resolver: Resolver;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts CoreDNS serving `zone` (file plugin) for `origin` on 127.0.0.1, sending dnstap
 * `full` to `dnstapTo` (a Corefile dnstap endpoint, e.g. tcp://127.0.0.1:6000), and
 * resolves when it answers.
 */
export async function startCoreDns(origin: string, zone: string, dnstapTo: string): Promise<CoreDns> {
  const dir = await mkdtemp(join(tmpdir(), 'kovenant-coredns-'));
  const port = await freePort();
  await writeFile(join(dir, 'zone.db'), zone);
  await writeFile(
    join(dir, 'Corefile'),
    `${origin}:${port} {
  bind 127.0.0.1
  errors
  dnstap ${dnstapTo} full
  file ${join(dir, 'zone.db')}
}
`,
  );
  const child: ChildProcess = spawn(COREDNS_BIN, ['-conf', join(dir, 'Corefile')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const answers = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`coredns exited (${child.exitCode}): ${logs}`);
    // The SOA answers once the zone is loaded; it is not an address, so it teaches the cache nothing.
    return resolver.resolveSoa(origin).then(
      () => true,
      () => false,
    );
  };
  try {
    await waitFor(`coredns to answer on 127.0.0.1:${port}`, answers, 30_000, 100);
  } catch (err) {
    await stop();
    throw child.exitCode !== null ? err : new Error(`coredns did not answer on 127.0.0.1:${port} within 30 s: ${logs}`);
  }
  return { port, resolver, logs: () => logs, stop };
}
