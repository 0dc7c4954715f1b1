/**
 * `kovenant run --window dynamic`: under a point rate above `--series-budget` the
 * window grows (10s → 20s → 1m), every point stays aligned to its window's length, and
 * the totals are those of a fixed-window replay of the same lines.
 *
 * Event times lie a day ahead and --lateness is 0s: windows close by event time only
 * (the wall clock never reaches them), so the run does not depend on timing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { DAEMON_START_MS, replayOutput, runCli } from '../support/cli.ts';
import { fieldSums } from '../support/line-protocol.ts';
import { parseLineProtocol, startDaemon, type Daemon } from './support.ts';

const PEERS = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`);

function linesFrom(t0: number, durationMs: number, stepMs: number): string[] {
  const out: string[] = [];
  for (let i = 0; i * stepMs < durationMs; i++) {
    const time = new Date(t0 + i * stepMs).toISOString().replace('Z', '000000Z');
    const peer = PEERS[i % PEERS.length]!;
    out.push(
      kprobeLine({
        fn: 'tcp_sendmsg',
        node: 'n1',
        time,
        sock: { saddr: '10.0.0.1', sport: 40000, daddr: peer, dport: 443 },
        size: String(100 + (i % 7)),
      }),
    );
  }
  return out;
}

describe('kovenant run --window dynamic', () => {
  let daemon: Daemon | undefined;
  afterEach(() => {
    daemon?.kill();
    daemon = undefined;
  });

  it('grows the window under a high point rate; points stay aligned; totals match a replay', async () => {
    const hour = 3_600_000;
    const t0 = Math.ceil((Date.now() + 24 * hour) / hour) * hour;
    // 40 series per 10s window: 240 points/min against a budget of 100.
    const lines = linesFrom(t0, 12 * 60_000, 250);
    daemon = startDaemon(
      [],
      [
        'run',
        '--events',
        '-',
        '--window',
        'dynamic',
        '--window-max',
        '1m',
        '--series-budget',
        '100',
        '--lateness',
        '0s',
        '--metrics-addr',
        'off',
        '--output',
        'line',
        '--max-clock-skew',
        '2d',
      ],
      {},
      'pipe',
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    daemon.child.stdin!.end(lines.join('\n') + '\n');
    expect(await daemon.exited(30_000)).toBe(0);
    expect(daemon.stderr()).toContain('"msg":"window length changes"');

    const points = parseLineProtocol(daemon.stdout()).filter((p) => p.measurement === 'kovenant_tcp');
    const times = [...new Set(points.map((p) => Number(p.timeNs / 1_000_000n)))].sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Starts with 10s windows, ends with 1m windows.
    expect(gaps[0]).toBe(10_000);
    expect(gaps.slice(-3)).toEqual([60_000, 60_000, 60_000]);
    // Each window starts at a multiple of its own length (the gap to the next start),
    // and a length never exceeds --window-max.
    for (let i = 0; i < gaps.length; i++) {
      expect([10_000, 20_000, 60_000]).toContain(gaps[i]);
      expect(times[i]! % gaps[i]!).toBe(0);
    }
    // One point per series and window: 40 series in every window.
    for (const t of times.slice(0, -1)) expect(points.filter((p) => Number(p.timeNs / 1_000_000n) === t).length).toBe(PEERS.length);

    const replayed = parseLineProtocol(await replayOutput(lines, ['--window', '10s']));
    expect(replayed.length).toBeGreaterThan(points.length);
    expect(fieldSums(points)).toEqual(fieldSums(replayed.filter((p) => p.measurement === 'kovenant_tcp')));
  }, 120_000);

  it('refuses a --window-max below the shortest length, naming the flag', async () => {
    const r = await runCli([
      'run',
      '--events',
      'none',
      '--window',
      'dynamic',
      '--window-max',
      '5s',
      '--metrics-addr',
      'off',
      '--duration',
      '1s',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--window-max 5s');
  });
});
