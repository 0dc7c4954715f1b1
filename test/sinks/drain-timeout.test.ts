/**
 * `--drain-timeout` holds in every mode: with and without `--spool-dir`, against a
 * refused port and against a listener that accepts connections and never answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, influxV1Output, RUN_STDIN } from '../support/cli.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

const POD = { namespace: 'shop', name: 'cart-1' };
/** 20 windows of a few points. */
const INPUT =
  Array.from({ length: 2_000 }, (_, i) =>
    kprobeLine({
      fn: '__x64_sys_write',
      node: 'n1',
      time: new Date(Date.UTC(2024, 4, 1, 12) + i * 100).toISOString(),
      pod: { ...POD, name: `cart-${i % 50}` },
      size: '10',
    }),
  ).join('\n') + '\n';

let silent: Server;
let silentPort = 0;
const sockets: Socket[] = [];
let refusedPort = 0;
const dirs: string[] = [];

beforeAll(async () => {
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  refusedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cases = [
  { name: 'a refused port', port: () => refusedPort },
  { name: 'a silent listener', port: () => silentPort },
];

describe.each(cases)('replay --drain-timeout 3s against $name', ({ port }) => {
  it.each([false, true])(
    'spool on disk: %s',
    async (spool) => {
      const args = ['replay', '-', ...influxV1Output(`http://127.0.0.1:${port()}`, 'k'), '--drain-timeout', '3s', '--batch-size', '50'];
      if (spool) {
        const d = mkdtempSync(join(tmpdir(), 'kovenant-drain-'));
        dirs.push(d);
        args.push('--spool-dir', d);
      }
      const started = Date.now();
      const r = await runCli(args, { stdin: INPUT, timeoutMs: 90_000 });
      const elapsed = Date.now() - started;
      expect(r.code, r.stderr.slice(-1500)).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^kovenant: \d+ points not acknowledged/);
      // 3 s of draining plus start-up (tsx, a loaded machine), far below the 30 s request timeout.
      expect(elapsed).toBeLessThan(25_000);
    },
    120_000,
  );
});

describe.each(cases)('run --drain-timeout 3s against $name, no spool', ({ port }) => {
  it('exits soon after stdin ends, reporting the points it could not deliver', async () => {
    const started = Date.now();
    const r = await runCli([...RUN_STDIN, ...influxV1Output(`http://127.0.0.1:${port()}`, 'k'), '--drain-timeout', '3s'], {
      stdin: INPUT,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stderr).toContain('points not acknowledged at exit');
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 120_000);
});
