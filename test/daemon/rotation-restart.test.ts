/**
 * The daemon follows an export file that rotates like Tetragon's (lumberjack: rename to
 * a timestamped backup, new live file, backups gzipped), several rotations between two
 * polls, and is stopped with SIGTERM and SIGKILL while the file rotates on; in the end
 * InfluxDB holds exactly what a naive reading of every event adds up to, per window and
 * series. A second test lets the backup limit delete files while the daemon is stopped:
 * the loss is logged and counted, and everything else still adds up.
 *
 * OracleEvent times are a day ahead and increase, with --lateness 0s: windows close by event
 * time only, one as soon as the next window's first event is read, so the oracle's
 * windows are the daemon's. SIGTERM flushes the open windows, so it is sent when the
 * daemon has read exactly up to a window boundary.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { influxQuery, requireBinary } from '../support/servers.ts';
import { LumberjackWriter } from '../support/lumberjack-writer.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { waitFor } from '../support/wait.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { storedWindows, windowOracle, xorshift, type OracleEvent } from '../support/window-oracle.ts';
import { daemonMetrics, metricValue, fileToInfluxArgs, influxWithDatabase, ownedDaemon, type Daemon } from './support.ts';

const DB = 'k';
const WINDOW_MS = 1000;
const PEERS = ['203.0.113.5', '198.51.100.7'];
/** Lines written before the first rotation, once the daemon follows the file. */
const FIRST_LINES = 20;

function makeEvents(count: number, t0: number, seed: number): OracleEvent[] {
  const next = xorshift(seed);
  const out: OracleEvent[] = [];
  for (let i = 0; i < count; i++) {
    const timeMs = t0 + i * 9;
    const time = new Date(timeMs).toISOString().replace('Z', '000000Z');
    const size = 1 + next(5000);
    if (next(3) === 0) {
      const pod = `app-${next(2)}`;
      out.push({
        line: kprobeLine({ fn: '__x64_sys_write', node: 'n1', time, pod: { namespace: 'ns', name: pod }, size: String(size), ret: size }),
        measurement: 'kovenant_io',
        who: pod,
        timeMs,
        fields: { bytes_written: size, writes: 1, bytes_read: 0, reads: 0 },
      });
    } else {
      const peer = PEERS[next(PEERS.length)]!;
      const sock = { saddr: '10.0.0.1', sport: 40000 + next(50), daddr: peer, dport: 443 };
      out.push({
        line: kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time, sock, size: String(size) }),
        measurement: 'kovenant_tcp',
        who: peer,
        timeMs,
        fields: { bytes_sent: size, sends: 1, bytes_received: 0, receives: 0, connects: 0, closes: 0 },
      });
    }
  }
  return out;
}

/** Calls counted in InfluxDB so far (every event is one send or one write). */
async function callsStored(url: string): Promise<number> {
  let n = 0;
  for (const q of ['SELECT sum(sends) FROM kovenant_tcp', 'SELECT sum(writes) FROM kovenant_io']) {
    const [s] = await influxQuery(url, DB, q);
    n += Number(s?.values[0]?.[1] ?? 0);
  }
  return n;
}

/** The writer's pace and the kill point: timing is the input of this test, never what it waits for. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The index of the first event of the window after the one holding event `i`. */
function nextWindowStart(events: OracleEvent[], i: number): number {
  const w = Math.floor(events[i]!.timeMs / WINDOW_MS);
  let j = i;
  while (j < events.length && Math.floor(events[j]!.timeMs / WINDOW_MS) === w) j++;
  return j;
}

describe.skipIf(!requireBinary('/usr/bin/influxd'))('kovenant run over a file rotated like Tetragon rotates it', () => {
  const cleanup = cleanupAfterEach();
  let daemon: Daemon | undefined;

  async function setUp(): Promise<{ log: string; start: () => Promise<Daemon>; influxUrl: string }> {
    const influx = await influxWithDatabase(cleanup, DB);
    const dir = cleanup.tempDir('kovenant-rotation-');
    const log = join(dir, 'tetragon.log');
    const args = [
      ...fileToInfluxArgs({ log, checkpointFile: join(dir, 'checkpoint.json'), influxUrl: influx.url, db: DB }),
      '--lateness',
      '0s',
      '--max-clock-skew',
      '2d',
      '--metrics-addr',
      '127.0.0.1:0',
      '--node-name',
      'n1',
    ];
    const url = influx.url;
    return {
      log,
      influxUrl: url,
      start: async () => {
        const d = ownedDaemon(cleanup, [], args, { KOVENANT_CONFIG: '' });
        await d.waitForLog('"msg":"metrics listening"', DAEMON_START_MS);
        await d.waitForLog('"msg":"running"', DAEMON_START_MS);
        return d;
      },
    };
  }

  /** Writes events [from, to) in bursts, rotating after most bursts (often twice in a row). */
  async function writeRotating(writer: LumberjackWriter, events: OracleEvent[], from: number, to: number, seed: number): Promise<void> {
    const next = xorshift(seed);
    for (let i = from; i < to;) {
      const n = Math.min(to - i, 20 + next(120));
      writer.write(
        events
          .slice(i, i + n)
          .map((e) => e.line)
          .join('\n') + '\n',
      );
      i += n;
      const rotations = next(3);
      for (let r = 0; r < rotations; r++) {
        writer.rotate();
        if (r + 1 < rotations) writer.write(events[i] && i < to ? events[i++]!.line + '\n' : '');
      }
      if (next(4) === 0) await sleep(5 + next(40));
    }
  }

  async function untilRead(d: Daemon, lines: number, log: string): Promise<void> {
    await waitFor(
      `the daemon to read ${lines} lines`,
      async () => metricValue(await daemonMetrics(d), 'kovenant_events_read_total') === lines,
      60_000,
      100,
    ).catch(async (err: unknown) => {
      // Everything that tells a stalled sink from a follower that stopped short.
      const metrics = (await daemonMetrics(d))
        .split('\n')
        .filter((l) => l.startsWith('kovenant_') && !l.startsWith('kovenant_process_') && !/_bucket\{/.test(l));
      const files = readdirSync(dirname(log)).sort().join(' ');
      throw new Error(
        `${(err as Error).message}: read ${metricValue(await daemonMetrics(d), 'kovenant_events_read_total')}; files: ${files}; metrics: ${metrics.join('; ')}; ${d.stderr().slice(-2000)}`,
      );
    });
  }

  /**
   * Writes the first lines without rotating and waits until the daemon read them. The
   * daemon logs "running" before the follower first looks at the directory, and on a
   * first start (no checkpoint) the backups already there are history, not read: a
   * rotation before that first look (a loaded machine) would take the lines rotated
   * with it out of what the daemon reads (events read stopping 29 or 145 short).
   */
  async function positioned(writer: LumberjackWriter, events: OracleEvent[], log: string): Promise<void> {
    writer.write(
      events
        .slice(0, FIRST_LINES)
        .map((e) => e.line)
        .join('\n') + '\n',
    );
    await untilRead(daemon!, FIRST_LINES, log);
  }

  async function checkExact(url: string, events: OracleEvent[]): Promise<void> {
    const expected = windowOracle(events, WINDOW_MS);
    for (const [measurement, who] of [
      ['kovenant_tcp', 'remote_name'],
      ['kovenant_io', 'pod'],
    ] as const) {
      const got = await storedWindows(url, DB, measurement, who);
      expect(new Map([...got].sort()), measurement).toEqual(new Map([...expected.get(measurement)!].sort()));
    }
  }

  it('is exact across many rotations between polls, gzipped backups, and rotations while stopped by SIGTERM and SIGKILL', async () => {
    const { log, start, influxUrl } = await setUp();
    const t0 = Math.floor((Date.now() + 86_400_000) / 1000) * 1000;
    const events = makeEvents(5000, t0, 0xfeed);
    const sentinel = makeEvents(1, t0 + 3_600_000, 7)[0]!;
    const writer = new LumberjackWriter(log, { compress: true });
    daemon = await start();

    // Phase 1: live, up to a window boundary, then SIGTERM (flushes whole windows).
    const cut1 = nextWindowStart(events, 1400);
    await positioned(writer, events, log);
    await writeRotating(writer, events, FIRST_LINES, cut1, 1);
    await untilRead(daemon, cut1, log);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    // Stopped: the file goes on and rotates three times (into gzipped backups).
    const cut2 = cut1 + 600;
    for (const [a, b] of [
      [cut1, cut1 + 200],
      [cut1 + 200, cut1 + 400],
      [cut1 + 400, cut2],
    ] as const) {
      writer.write(
        events
          .slice(a, b)
          .map((e) => e.line)
          .join('\n') + '\n',
      );
      writer.rotate();
    }
    daemon = await start();
    await daemon.waitForLog('the events file was rotated while stopped', 20_000);

    // Phase 2: live, then SIGKILL anywhere, two rotations while dead.
    const cut3 = 3400;
    await writeRotating(writer, events, cut2, cut3, 2);
    // A kill point a little after the writes (the daemon somewhere in reading them), not a wait.
    await sleep(300);
    daemon.child.kill('SIGKILL');
    await daemon.exited(10_000);
    writer.write(
      events
        .slice(cut3, cut3 + 150)
        .map((e) => e.line)
        .join('\n') + '\n',
    );
    writer.rotate();
    writer.write(
      events
        .slice(cut3 + 150, cut3 + 300)
        .map((e) => e.line)
        .join('\n') + '\n',
    );
    writer.rotate();
    daemon = await start();

    // Phase 3: the rest, then the sentinel that closes every earlier window.
    await writeRotating(writer, events, cut3 + 300, events.length, 3);
    writer.write(sentinel.line + '\n');
    await waitFor(
      'every event before the sentinel in InfluxDB',
      async () => (await callsStored(influxUrl)) === events.length,
      90_000,
      200,
    ).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}: ${await callsStored(influxUrl)} of ${events.length}; ${daemon!.stderr().slice(-3000)}`);
    });
    const metrics = await daemonMetrics(daemon);
    expect(metrics).toMatch(/kovenant_source_rotations_total\{kind="rename"\} [1-9]/);
    expect(metricValue(metrics, 'kovenant_source_files_missed_total')).toBe(0);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    expect(writer.rotations).toBeGreaterThan(40);
    expect(daemon.stderr()).not.toContain('DATA LOSS');
    await checkExact(influxUrl, [...events, sentinel]);
  }, 240_000);

  it('reports the files the backup limit deleted while it was stopped, and counts everything else exactly', async () => {
    const { log, start, influxUrl } = await setUp();
    const t0 = Math.floor((Date.now() + 86_400_000) / 1000) * 1000;
    const events = makeEvents(2000, t0, 0xbeef);
    const writer = new LumberjackWriter(log, { compress: true, maxBackups: 2 });
    daemon = await start();
    const cut1 = nextWindowStart(events, 500);
    await positioned(writer, events, log);
    await writeRotating(writer, events, FIRST_LINES, cut1, 4);
    await untilRead(daemon, cut1, log);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    // Four rotations while stopped, two backups kept: the checkpointed file and the next are gone.
    const parts = [cut1, cut1 + 150, cut1 + 300, cut1 + 450, cut1 + 600];
    for (let i = 0; i < 4; i++) {
      writer.write(
        events
          .slice(parts[i], parts[i + 1])
          .map((e) => e.line)
          .join('\n') + '\n',
      );
      writer.rotate();
    }
    const lost = new Set(events.slice(cut1, cut1 + 300));
    const sentinel = makeEvents(1, t0 + 3_600_000, 9)[0]!;
    daemon = await start();
    await daemon.waitForLog('DATA LOSS', 20_000);
    expect(daemon.stderr()).toMatch(/"level":50[^\n]*"file":"[^"]*tetragon\.log"[^\n]*"bytesMissed":\d+[^\n]*"estimated":true/);
    // No more rotations: with two backups kept, rotating faster than the daemon reads
    // would delete more (the follower tests cover that case).
    writer.write(
      events
        .slice(parts[4])
        .map((e) => e.line)
        .join('\n') + '\n',
    );
    writer.write(sentinel.line + '\n');
    const kept = events.filter((e) => !lost.has(e));
    await waitFor('every kept event in InfluxDB', async () => (await callsStored(influxUrl)) === kept.length, 90_000, 200).catch(
      async (err: unknown) => {
        throw new Error(`${(err as Error).message}: ${await callsStored(influxUrl)} of ${kept.length}; ${daemon!.stderr().slice(-3000)}`);
      },
    );
    expect(metricValue(await daemonMetrics(daemon), 'kovenant_source_files_missed_total')).toBe(1);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    // The first window after the gap holds only the events that were kept: still exact.
    await checkExact(influxUrl, [...kept, sentinel]);
  }, 240_000);
});
