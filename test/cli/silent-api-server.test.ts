/**
 * An API server that accepts connections and never answers (a silent TCP listener on
 * loopback): every wait has a deadline, and signals always end the process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_START_MS, runCli, startCli, startDaemon, influxV1Output, RUN_STDIN } from '../support/cli.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

let silent: Server;
let port = 0;
const sockets: Socket[] = [];
let dir = '';
let kubeconfig = '';

beforeAll(async () => {
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  port = (silent.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'kovenant-silent-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {token: abc}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'events.jsonl'), '\n');
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('an API server that never answers', () => {
  it('replay --sync-timeout: one line, exit 2, promptly, no file descriptor warnings', async () => {
    const started = Date.now();
    const r = await runCli(['replay', join(dir, 'events.jsonl'), '--kubeconfig', kubeconfig, '--sync-timeout', '2s'], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/not synced within 2s/);
    expect(r.stderr).not.toMatch(/garbage collection/);
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 90_000);

  it('run --duration: exits 0 after "stopped"', async () => {
    const started = Date.now();
    const r = await runCli(['run', '--events', 'none', '--kubeconfig', kubeconfig, '--duration', '2s', '--metrics-addr', 'off'], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stderr).toContain('"stopped"');
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 90_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'run without --duration: %s ends it',
    async (signal) => {
      const d = startDaemon([], ['run', '--events', 'none', '--kubeconfig', kubeconfig, '--metrics-addr', 'off']);
      try {
        await d.waitForLog('waiting for Kubernetes metadata', 30_000);
        const sent = Date.now();
        d.child.kill(signal);
        expect(await d.exited(20_000)).toBe(0);
        expect(Date.now() - sent).toBeLessThan(15_000);
      } finally {
        d.kill();
      }
    },
    60_000,
  );
});

describe('a second signal', () => {
  it('exits at once while the first one is still draining', async () => {
    const d = startCli([...RUN_STDIN, ...influxV1Output(`http://127.0.0.1:${port}`, 'k'), '--drain-timeout', '5m'], { stdin: 'pipe' });
    const child = d.child;
    try {
      const line = kprobeLine({
        fn: '__x64_sys_write',
        node: 'n1',
        time: new Date().toISOString(),
        pod: { namespace: 'a', name: 'b' },
        size: '5',
      });
      child.stdin!.write(`${line}\n`);
      await d.waitForLog('"running"', DAEMON_START_MS);
      child.kill('SIGTERM');
      await d.waitForLog('a second signal exits at once', 10_000);
      // The final window now waits for a server that never answers, for up to 5 minutes.
      const second = Date.now();
      child.kill('SIGTERM');
      expect(await d.exited(30_000)).toBe(143);
      expect(Date.now() - second).toBeLessThan(5_000);
      expect(d.stderr()).toContain('second signal: exiting at once');
    } finally {
      d.kill();
    }
  }, 90_000);
});
