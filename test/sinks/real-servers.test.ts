/**
 * Against real servers: InfluxDB 1.x through the v1 sink (read back with InfluxQL) and
 * VictoriaMetrics through the official v2 client (read back with /api/v1/export). The
 * server is stopped in the middle of the stream and restarted; the sums read back must
 * equal the sums sent, exactly, with one sample per series and window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/sinks/delivery-stats.ts';
import { createInfluxSink, type InfluxTarget } from '../../src/sinks/influx-sink.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';
import { RetryPolicy } from '../../src/sinks/retry-policy.ts';
import { influxQuery, requireBinary, startInfluxd, startVictoriaMetrics, type RunningServer } from '../support/servers.ts';
import { captureLog, sumField, tcpPoints } from './fixtures.ts';

const FAST_RETRY = new RetryPolicy({ minDelayMs: 50, maxDelayMs: 400, base: 2 });
const WINDOWS = 30;
const PER_WINDOW = 200;

const temp: string[] = [];
function spoolDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kovenant-spool-real-'));
  temp.push(d);
  return d;
}
afterAll(() => {
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});

async function sinkTo(target: InfluxTarget, dir: string, drainTimeoutMs = 30_000) {
  const captured = captureLog();
  const sink = await createInfluxSink({
    target,
    spoolDir: dir,
    spoolMaxBytes: 256 * 1024 * 1024,
    log: captured.log,
    delivery: { retryPolicy: FAST_RETRY, flushIntervalMs: 20, batchPoints: 500, drainTimeoutMs },
  });
  return { sink, ...captured };
}

/** Writes windows [from, to) and returns what was written. */
async function writeWindows(sink: { write(p: readonly MetricPoint[]): Promise<void> }, from: number, to: number): Promise<MetricPoint[]> {
  const all: MetricPoint[] = [];
  for (let w = from; w < to; w++) {
    const points = tcpPoints(w, PER_WINDOW);
    await sink.write(points);
    all.push(...points);
  }
  return all;
}

describe.skipIf(!requireBinary('/usr/bin/influxd'))('InfluxDB 1.x through /write', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  async function createDb(db: string): Promise<void> {
    const res = await fetch(`${server.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });
    expect(res.ok).toBe(true);
  }

  async function totals(db: string): Promise<{ sum: number; count: number; received: number }> {
    const rows = await influxQuery(server.url, db, 'SELECT sum(bytes_sent), count(bytes_sent), sum(bytes_received) FROM kovenant_tcp');
    const v = rows[0]?.values[0] ?? [];
    return { sum: Number(v[1] ?? 0), count: Number(v[2] ?? 0), received: Number(v[3] ?? 0) };
  }

  it('delivers every point exactly once across a server stop and restart', async () => {
    await createDb('outage');
    const { sink, lines } = await sinkTo({ api: 'v1', url: server.url, db: 'outage' }, spoolDir());
    const sent = await writeWindows(sink, 0, 10);
    await server.stop();
    // While InfluxDB is down, write() still resolves: the points go to the disk spool.
    sent.push(...(await writeWindows(sink, 10, 20)));
    expect(sink.stats().pending).toBeGreaterThan(0);
    await server.restart();
    sent.push(...(await writeWindows(sink, 20, WINDOWS)));
    await sink.close();

    const stats = sink.stats();
    expect(stats).toMatchObject({
      accepted: WINDOWS * PER_WINDOW,
      acknowledged: WINDOWS * PER_WINDOW,
      rejected: 0,
      dropped: 0,
      failed: 0,
      pending: 0,
    });
    expect(stats.retries).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === 40 && /retrying/.test(l.msg))).toBe(true);
    expect(await totals('outage')).toEqual({
      sum: sumField(sent, 'bytes_sent'),
      count: WINDOWS * PER_WINDOW,
      received: sumField(sent, 'bytes_received'),
    });
  });

  it('resumes the spool after kovenant restarts while InfluxDB is down', async () => {
    await createDb('resume');
    const dir = spoolDir();
    await server.stop();
    const first = await sinkTo({ api: 'v1', url: server.url, db: 'resume' }, dir, 300);
    const sent = await writeWindows(first.sink, 0, 5);
    // close() gives up after the drain timeout and says how many points stay spooled.
    await expect(first.sink.close()).rejects.toThrow(new RegExp(`^${5 * PER_WINDOW} points not acknowledged .*still in the spool`));
    expect(first.sink.stats().pending).toBe(5 * PER_WINDOW);

    await server.restart();
    const second = await sinkTo({ api: 'v1', url: server.url, db: 'resume' }, dir);
    expect(second.sink.stats().pending).toBe(5 * PER_WINDOW);
    sent.push(...(await writeWindows(second.sink, 5, 8)));
    await second.sink.close();
    expect(second.sink.stats()).toMatchObject({ acknowledged: 8 * PER_WINDOW, pending: 0 });
    expect(await totals('resume')).toEqual({
      sum: sumField(sent, 'bytes_sent'),
      count: 8 * PER_WINDOW,
      received: sumField(sent, 'bytes_received'),
    });
  });

  it('overwrites a window sent twice instead of double counting', async () => {
    await createDb('idem');
    const { sink } = await sinkTo({ api: 'v1', url: server.url, db: 'idem' }, spoolDir());
    const points = tcpPoints(3, 50);
    await sink.write(points);
    await sink.write(points);
    await sink.close();
    expect(await totals('idem')).toEqual({ sum: sumField(points, 'bytes_sent'), count: 50, received: sumField(points, 'bytes_received') });
  });

  it('keeps the points of a missing database (404) in the spool and reports them as not acknowledged', async () => {
    const { sink } = await sinkTo({ api: 'v1', url: server.url, db: 'no_such_db' }, spoolDir(), 1_000);
    await sink.write(tcpPoints(0, 10));
    const err: unknown = await sink.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).stats).toMatchObject({ rejected: 0, pending: 10 });
    expect((err as Error).message).toMatch(/10 points not acknowledged.*10 still in the spool/);
  });
});

interface VmSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

describe.skipIf(!requireBinary('/usr/bin/victoria-metrics'))('VictoriaMetrics through the v2 client', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  async function exported(metric: string): Promise<VmSeries[]> {
    await fetch(`${server.url}/internal/force_flush`);
    const res = await fetch(`${server.url}/api/v1/export?match[]=${encodeURIComponent(metric)}&start=0`);
    expect(res.ok).toBe(true);
    return (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VmSeries);
  }

  it('delivers every point exactly once across a server stop and restart', async () => {
    const { sink } = await sinkTo({ api: 'v2', url: server.url, org: 'kovenant', bucket: 'kovenant', token: 'unused' }, spoolDir());
    const sent = await writeWindows(sink, 0, 10);
    await server.stop();
    sent.push(...(await writeWindows(sink, 10, 20)));
    await server.restart();
    sent.push(...(await writeWindows(sink, 20, WINDOWS)));
    await sink.close();
    expect(sink.stats()).toMatchObject({ acknowledged: WINDOWS * PER_WINDOW, pending: 0, rejected: 0, dropped: 0, failed: 0 });
    expect(sink.stats().retries).toBeGreaterThan(0);

    const series = await exported('kovenant_tcp_bytes_sent');
    expect(series).toHaveLength(PER_WINDOW);
    for (const s of series) expect(new Set(s.timestamps).size).toBe(WINDOWS); // one sample per window
    const sum = series.reduce((acc, s) => acc + s.values.reduce((a, v) => a + v, 0), 0);
    expect(sum).toBe(sumField(sent, 'bytes_sent'));
    const samples = series.reduce((acc, s) => acc + s.values.length, 0);
    expect(samples).toBe(WINDOWS * PER_WINDOW);
  });
});
