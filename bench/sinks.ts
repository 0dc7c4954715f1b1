/**
 * Sink throughput against real servers: points per second written to InfluxDB 1.x through
 * `/write`, and through the official v2 client (`/api/v2/write`, served by VictoriaMetrics
 * because Debian's influxdb is 1.6, which predates that endpoint), with the memory spool
 * and with the disk spool (fsync per write). Each run writes windows of realistic
 * kovenant_tcp points and counts until `close()`, i.e. until every point is acknowledged.
 *
 * Run alone: `node --import tsx bench/sinks.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createInfluxSink, type InfluxTarget } from '../src/sinks/influx-sink.ts';
import type { MetricPoint } from '../src/core/metric-point.ts';
import { hasBinary, startInfluxd, startVictoriaMetrics, type RunningServer } from '../test/support/servers.ts';

const WINDOWS = 40;
const PER_WINDOW = 2500;

function windowPoints(w: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = 0; i < PER_WINDOW; i++) {
    out.push({
      measurement: 'kovenant_tcp',
      tags: {
        node: `node-${i % 8}`,
        namespace: `ns-${i % 12}`,
        pod: `api-${i % 400}-7d9f8b6c5d-x2k8p`,
        workload: `api-${i % 400}`,
        workload_kind: 'Deployment',
        remote_kind: 'service',
        remote_namespace: `ns-${(i * 7) % 12}`,
        remote_name: `svc-${Math.floor(i / 400)}`,
      },
      ints: { bytes_sent: (w * 31 + i) % 65536, bytes_received: (w * 17 + i) % 32768, sends: 3, receives: 2, connects: 1, closes: 1 },
      timeMs: 1_790_000_000_000 + w * 10_000,
    });
  }
  return out;
}

function sinkFor(target: InfluxTarget, spoolDir: string | undefined) {
  return createInfluxSink({
    target,
    spoolDir,
    spoolMaxBytes: 1024 ** 3,
    log: pino({ level: 'warn' }, pino.destination(2)),
    delivery: { batchPoints: 5000, flushIntervalMs: 50 },
  });
}

/** Creates the series once, so that every arm measures steady-state writes, not indexing. */
async function warmUp(target: InfluxTarget): Promise<void> {
  const sink = await sinkFor(target, undefined);
  await sink.write(windowPoints(-1));
  await sink.close();
}

async function measure(label: string, target: InfluxTarget, spoolDir: string | undefined): Promise<string> {
  const windows = Array.from({ length: WINDOWS }, (_, w) => windowPoints(w));
  const sink = await sinkFor(target, spoolDir);
  const started = process.hrtime.bigint();
  for (const points of windows) await sink.write(points);
  await sink.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const n = WINDOWS * PER_WINDOW;
  const s = sink.stats();
  if (s.acknowledged !== n) throw new Error(`${label}: only ${s.acknowledged} of ${n} points acknowledged`);
  return `  ${label.padEnd(50)} ${Math.round(n / seconds)
    .toString()
    .padStart(9)} points/s  (${n} points, ${s.requests} requests, ${seconds.toFixed(2)} s)`;
}

export async function benchSinks(): Promise<string> {
  const lines = ['sinks: points/s until every point is acknowledged'];
  const temp = mkdtempSync(join(tmpdir(), 'kovenant-bench-spool-'));
  const servers: RunningServer[] = [];
  try {
    if (hasBinary('/usr/bin/influxd')) {
      const influx = await startInfluxd();
      servers.push(influx);
      await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
      const target: InfluxTarget = { api: 'v1', url: influx.url, db: 'bench' };
      await warmUp(target);
      lines.push(await measure('InfluxDB 1.x /write, memory spool', target, undefined));
      lines.push(await measure('InfluxDB 1.x /write, disk spool (fsync)', target, join(temp, 'v1')));
    } else lines.push('  InfluxDB 1.x: /usr/bin/influxd missing, skipped');
    if (hasBinary('/usr/bin/victoria-metrics')) {
      const vm = await startVictoriaMetrics();
      servers.push(vm);
      const target: InfluxTarget = { api: 'v2', url: vm.url, org: 'bench', bucket: 'bench', token: 'unused' };
      await warmUp(target);
      lines.push(await measure('v2 client -> VictoriaMetrics, memory spool', target, undefined));
      lines.push(await measure('v2 client -> VictoriaMetrics, disk spool (fsync)', target, join(temp, 'v2')));
    } else lines.push('  VictoriaMetrics: /usr/bin/victoria-metrics missing, skipped');
  } finally {
    for (const s of servers) await s.dispose();
    rmSync(temp, { recursive: true, force: true });
  }
  return lines.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(await benchSinks());
}
