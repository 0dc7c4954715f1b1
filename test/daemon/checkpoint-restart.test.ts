/**
 * The issue's test: the daemon follows a growing Tetragon export file into a real
 * InfluxDB, is killed with SIGKILL at random points in the middle of the stream and
 * restarted each time, and in the end InfluxDB holds exactly what a naive reading of
 * the event lines adds up to: the totals, and every (window, series) point — so no
 * window was written with part of its events and no event was counted twice.
 *
 * OracleEvent times are a day in the future and increase, with --lateness 0s: windows then
 * close by event time only (the wall clock never reaches them), one as soon as the
 * next window's first event is read, so the oracle's windows are exactly the
 * daemon's. Some lines are appended in two writes, so a reader sees half lines.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { influxQuery, requireBinary } from '../support/servers.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { waitFor } from '../support/wait.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { storedWindows, windowOracle, xorshift, type OracleEvent } from '../support/window-oracle.ts';
import { fileToInfluxArgs, influxWithDatabase, ownedDaemon, type Daemon } from './support.ts';

const DB = 'k';
const PEERS = ['203.0.113.5', '203.0.113.6', '198.51.100.7'];
const WINDOW_MS = 1000;

/** The event stream, from a seeded generator: every run of the test writes the same lines. */
function makeEvents(count: number, t0: number, seed: number): OracleEvent[] {
  const next = xorshift(seed);
  const out: OracleEvent[] = [];
  for (let i = 0; i < count; i++) {
    const timeMs = t0 + i * 7;
    const time = new Date(timeMs).toISOString().replace('Z', '000000Z');
    const kind = next(3);
    const size = 1 + next(5000);
    if (kind === 2) {
      const pod = `app-${next(2)}`;
      out.push({
        line: kprobeLine({ fn: '__x64_sys_write', node: 'n1', time, pod: { namespace: 'ns', name: pod }, size: String(size), ret: size }),
        measurement: 'kovenant_io',
        who: pod,
        timeMs,
        fields: { bytes_written: size, writes: 1, bytes_read: 0, reads: 0 },
      });
      continue;
    }
    const peer = PEERS[next(PEERS.length)]!;
    const sock = { saddr: '10.0.0.1', sport: 40000 + next(100), daddr: peer, dport: 443 };
    if (kind === 0) {
      out.push({
        line: kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time, sock, size: String(size) }),
        measurement: 'kovenant_tcp',
        who: peer,
        timeMs,
        fields: { bytes_sent: size, sends: 1, bytes_received: 0, receives: 0, connects: 0, closes: 0 },
      });
    } else {
      out.push({
        line: kprobeLine({ fn: 'tcp_recvmsg', node: 'n1', time, sock, size: '65536', ret: size }),
        measurement: 'kovenant_tcp',
        who: peer,
        timeMs,
        fields: { bytes_received: size, receives: 1, bytes_sent: 0, sends: 0, connects: 0, closes: 0 },
      });
    }
  }
  return out;
}

/** The writer's pace and the kill points' spread: the timing is the input of this test, never what it waits for. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe.skipIf(!requireBinary('/usr/bin/influxd'))('kovenant run: SIGKILL and restart', () => {
  const cleanup = cleanupAfterEach();

  it('keeps the totals and every window in InfluxDB exact across SIGKILLs mid-stream', async () => {
    const influx = await influxWithDatabase(cleanup, DB);
    const dir = cleanup.tempDir('kovenant-ckpt-');
    const log = join(dir, 'tetragon.log');
    const checkpointFile = join(dir, 'checkpoint.json');
    writeFileSync(log, '');
    // A day ahead, so that no wall-clock close ever reaches these windows.
    const t0 = Math.floor((Date.now() + 86_400_000) / 1000) * 1000;
    const seed = 0x5eed;
    const events = makeEvents(6000, t0, seed);
    // The last event, far after the others, closes every earlier window by event time.
    const sentinel = makeEvents(1, t0 + 3_600_000, seed + 1)[0]!;
    const args = [
      ...fileToInfluxArgs({ log, checkpointFile, influxUrl: influx.url, db: DB }),
      '--lateness',
      '0s',
      '--metrics-addr',
      'off',
      '--node-name',
      'n1',
      // The events lie a day ahead on purpose: allow them past the clock-skew rule.
      '--max-clock-skew',
      '2d',
    ];
    const start = async (): Promise<Daemon> => {
      const d = ownedDaemon(cleanup, [], args, { KOVENANT_CONFIG: '' });
      await d.waitForLog('"msg":"running"', DAEMON_START_MS);
      return d;
    };

    /** The offset of the saved checkpoint (written atomically: never half a file), if any. */
    const savedOffset = (): number =>
      existsSync(checkpointFile)
        ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { position: { offset: number } }).position.offset
        : -1;
    let daemon = await start();
    // What the running daemon resumed from: a kill must wait until it saved past it, or the
    // restart has nothing to resume from (the test would then measure a cold start).
    let offsetAtStart = savedOffset();
    let kills = 0;
    let resumes = 0;
    let written = 0;
    let nextKillAt = 700 + (seed % 500);
    let step = 0;
    while (written < events.length) {
      step++;
      const n = Math.min(events.length - written, 40 + ((step * 37) % 120));
      const slice = events.slice(written, written + n).map((e) => e.line);
      // Every third append leaves its last line half written for a moment.
      if (step % 3 === 0) {
        const text = slice.join('\n') + '\n';
        const cut = text.length - 1 - Math.floor(slice.at(-1)!.length / 2);
        appendFileSync(log, text.slice(0, cut));
        await sleep(30);
        appendFileSync(log, text.slice(cut));
      } else {
        appendFileSync(log, slice.join('\n') + '\n');
      }
      written += n;
      await sleep(15);
      if (written >= nextKillAt && kills < 4) {
        // A kill point somewhere after the append (a spread, not a wait: the checkpoint
        // below is what the kill waits for), then no warning.
        await sleep(50 + ((step * 53) % 400));
        const resumedFrom = offsetAtStart;
        await waitFor(`a checkpoint past offset ${resumedFrom}`, () => savedOffset() > resumedFrom, 30_000, 10);
        daemon.child.kill('SIGKILL');
        await daemon.exited(10_000);
        kills++;
        nextKillAt = written + 900 + ((step * 211) % 700);
        offsetAtStart = savedOffset();
        daemon = await start();
        await daemon.waitForLog('resuming the events file at its checkpoint', 10_000);
        resumes++;
      }
    }
    appendFileSync(log, sentinel.line + '\n');
    const sentinelOffset = statSync(log).size - Buffer.byteLength(sentinel.line + '\n');
    // Every window before the sentinel's is closed and acknowledged once the checkpoint reaches it.
    const last = daemon;
    await waitFor(`the checkpoint to reach offset ${sentinelOffset}`, () => savedOffset() >= sentinelOffset, 60_000, 50).catch(
      (e: unknown) => {
        throw new Error(`${(e as Error).message} (at ${savedOffset()}): ${last.stderr()}`);
      },
    );
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    expect(kills).toBe(4);
    expect(resumes).toBe(4);

    const all = [...events, sentinel];
    const expected = windowOracle(all, WINDOW_MS);
    for (const [measurement, who] of [
      ['kovenant_tcp', 'remote_name'],
      ['kovenant_io', 'pod'],
    ] as const) {
      const want = expected.get(measurement)!;
      const got = await storedWindows(influx.url, DB, measurement, who);
      // Every (window, series) point equals the oracle's: no partial window, no double count.
      expect(new Map([...got].sort()), measurement).toEqual(new Map([...want].sort()));
      const fields = Object.keys([...want.values()][0]!);
      const sums = await influxQuery(influx.url, DB, `SELECT ${fields.map((f) => `sum(${f}) AS ${f}`).join(', ')} FROM ${measurement}`);
      const row = Object.fromEntries(sums[0]!.columns.map((c, i) => [c, sums[0]!.values[0]![i]]));
      for (const f of fields) {
        const total = all.filter((e) => e.measurement === measurement).reduce((s, e) => s + (e.fields[f] ?? 0), 0);
        expect(row[f], `${measurement}.${f}`).toBe(total);
      }
    }
  }, 180_000);
});
