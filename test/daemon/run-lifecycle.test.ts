/**
 * `kovenant run` as a process: events on stdin, metrics over HTTP, SIGTERM flushes
 * every open window and exits 0 with the same totals a replay of the same events gives.
 */
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';
import { DAEMON_START_MS, influxV1Output, replayOutput, runCli } from '../support/cli.ts';
import { fieldSums } from '../support/line-protocol.ts';
import { metricValue, parseLineProtocol, startDaemon, type Daemon } from './support.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const LINES = gunzipSync(readFileSync(resolve(EXAMPLES, 'events.jsonl.gz')))
  .toString()
  .split('\n')
  .filter(Boolean)
  .slice(0, 1500);

async function scrape(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

describe('kovenant run lifecycle', () => {
  let daemon: Daemon | undefined;
  let dir: string | undefined;
  afterEach(() => {
    daemon?.kill();
    daemon = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A polling deadline, not a timing assertion: generous for a loaded 2-core CI machine. */
  async function waitForRead(port: number, lines: number): Promise<void> {
    let read: number | undefined;
    await waitFor(
      `the daemon to read ${lines} lines`,
      async () => (read = metricValue((await scrape(`http://127.0.0.1:${port}/metrics`)).text, 'kovenant_events_read_total')) === lines,
      30_000,
      100,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: read ${read}; stderr: ${daemon?.stderr().slice(-2000)}`);
    });
  }

  it('follows --events file:PATH across a rename rotation and flushes on SIGINT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kovenant-run-file-'));
    const log = join(dir, 'tetragon.log');
    const half = Math.floor(LINES.length / 2);
    writeFileSync(log, LINES.slice(0, half).join('\n') + '\n');
    const snapshot = resolve(EXAMPLES, 'snapshot.json');
    const port = await freePort();
    daemon = startDaemon(
      [],
      [
        'run',
        '--events',
        `file:${log}`,
        '--checkpoint-file',
        join(dir, 'checkpoint.json'),
        '--kube',
        snapshot,
        '--window',
        '10s',
        '--lateness',
        '1h',
        '--metrics-addr',
        `127.0.0.1:${port}`,
      ],
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    // Rotate only once the first half is read: a file rotated away before the follower
    // ever opened it is not followed (without a checkpoint nothing says it existed).
    await waitForRead(port, half);
    renameSync(log, `${log}.1`);
    writeFileSync(log, LINES.slice(half, half + 100).join('\n') + '\n');
    appendFileSync(log, LINES.slice(half + 100).join('\n') + '\n');
    await waitForRead(port, LINES.length);
    daemon.child.kill('SIGINT');
    expect(await daemon.exited(20_000)).toBe(0);
    const replayed = parseLineProtocol(await replayOutput(LINES, ['--kube', snapshot, '--window', '10s']));
    expect(fieldSums(parseLineProtocol(daemon.stdout()))).toEqual(fieldSums(replayed));
  }, 120_000);

  it('serves metrics while running and flushes everything on SIGTERM (exit 0)', async () => {
    const port = await freePort();
    const snapshot = resolve(EXAMPLES, 'snapshot.json');
    daemon = startDaemon(
      [],
      ['run', '--events', '-', '--kube', snapshot, '--window', '10s', '--lateness', '1h', '--metrics-addr', `127.0.0.1:${port}`],
      {},
      'pipe',
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    const base = `http://127.0.0.1:${port}`;
    expect((await scrape(`${base}/healthz`)).status).toBe(200);
    expect((await scrape(`${base}/readyz`)).status).toBe(200);
    daemon.child.stdin!.write(LINES.join('\n') + '\n');
    // Read counters catch up with what was written.
    let metrics = '';
    await waitFor(
      'kovenant_events_read_total to reach the lines written',
      async () => {
        metrics = (await scrape(`${base}/metrics`)).text;
        return metricValue(metrics, 'kovenant_events_read_total') === LINES.length;
      },
      30_000,
      100,
    );
    expect(metricValue(metrics, 'kovenant_events_read_total')).toBe(LINES.length);
    const used = metricValue(metrics, 'kovenant_events_used_total') ?? 0;
    expect(used).toBeGreaterThan(0);
    // A lateness of an hour keeps the (old) windows open until the stop.
    expect(metricValue(metrics, 'kovenant_open_windows')).toBeGreaterThan(0);
    expect(metrics).toContain('kovenant_metadata_synced 1');
    expect(metrics).toMatch(/kovenant_lag_seconds \d/);
    expect(daemon.stdout()).toBe('');

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(20_000)).toBe(0);
    const live = parseLineProtocol(daemon.stdout());
    const replayed = parseLineProtocol(await replayOutput(LINES, ['--kube', snapshot, '--window', '10s']));
    expect(live.length).toBe(replayed.length);
    expect(fieldSums(live)).toEqual(fieldSums(replayed));
  }, 120_000);

  it('a failure after the InfluxDB sink is open exits 2 at once instead of hanging on the sink', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const r = await runCli(
        ['run', '--events', 'none', ...influxV1Output('http://127.0.0.1:9', 'k'), '--metrics-addr', `127.0.0.1:${port}`],
        {
          timeoutMs: 30_000,
        },
      );
      expect(r.signal, 'killed by the timeout: the daemon hung').toBeNull();
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--metrics-addr 127.0.0.1:${port}: cannot listen (EADDRINUSE)`);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      busy.close();
    }
  }, 40_000);

  it('exits 2 naming the key and the allowed values for a bad option', async () => {
    const { code, stderr } = await runCli(['run', '--events', 'none', '--output', 'kafka']);
    expect(code).toBe(2);
    expect(stderr).toContain('"output" (from flag)');
    expect(stderr).toContain('allowed values: line, json, console, influx, influx-v1, influx-v2');
  });
});
