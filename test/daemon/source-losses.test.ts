/**
 * kovenant_source end to end: the daemon follows a file with rate_limit_info,
 * process_throttle and undecodable lines, scrapes a fake Tetragon metrics endpoint (an
 * HTTP server serving Prometheus text, one scrape failing), writes to a real InfluxDB,
 * and the totals there are exactly what the stream and the endpoint reported. The
 * traffic dashboard's completeness panels then run over those points.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { influxQuery, requireBinary } from '../support/servers.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';
import { daemonMetrics, metricValue, fileToInfluxArgs, influxWithDatabase, ownedDaemon } from './support.ts';

const DB = 'k';

/** Tetragon's /metrics: counters growing on every scrape; the third scrape fails. */
function fakeTetragon(): { server: Server; served: number[]; requests: () => number; listen: () => Promise<string> } {
  let requests = 0;
  const served: number[] = [];
  const server = createServer((_req, res) => {
    requests++;
    if (requests === 3) {
      res.writeHead(500).end('busy');
      return;
    }
    const n = requests;
    const bpf = [3 * n, 2 * n];
    const ring = n;
    const probes = 5 * n;
    served.push(bpf[0]! + bpf[1]! + ring + probes);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP tetragon_bpf_missed_events_total Number of Tetragon perf events that are failed to be sent from the kernel.',
        '# TYPE tetragon_bpf_missed_events_total counter',
        `tetragon_bpf_missed_events_total{error="EBUSY",msg_op="5"} ${bpf[0]}`,
        `tetragon_bpf_missed_events_total{error="ENOSPC",msg_op="5"} ${bpf[1]}`,
        '# TYPE tetragon_observer_ringbuf_events_lost_total counter',
        `tetragon_observer_ringbuf_events_lost_total ${ring}`,
        '# TYPE tetragon_missed_prog_probes_total counter',
        `tetragon_missed_prog_probes_total{attach="tcp_sendmsg",policy="kovenant-tcp {x}"} ${probes}`,
        // Counted from the stream's rate_limit_info instead; must not count twice.
        `tetragon_export_ratelimit_events_dropped_total ${1000 * n}`,
        `tetragon_events_total{type="PROCESS_KPROBE"} ${99999 * n}`,
        '',
      ].join('\n'),
    );
  });
  return {
    server,
    served,
    requests: () => requests,
    listen: () =>
      new Promise((ok) =>
        server.listen(0, '127.0.0.1', () => {
          const addr = server.address();
          ok(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/metrics`);
        }),
      ),
  };
}

describe.skipIf(!requireBinary('/usr/bin/influxd'))('kovenant_source', () => {
  const cleanup = cleanupAfterEach();

  it('counts what Tetragon reported lost, in the stream and on its metrics endpoint, per node and window', async () => {
    const started = Date.now();
    const influx = await influxWithDatabase(cleanup, DB);
    const fake = fakeTetragon();
    cleanup.add(fake.server, (server) => new Promise((r) => server.close(r)));
    const url = await fake.listen();
    const dir = cleanup.tempDir('kovenant-source-');
    const log = join(dir, 'tetragon.log');
    writeFileSync(log, '');
    const daemon = ownedDaemon(
      cleanup,
      [],
      [
        ...fileToInfluxArgs({ log, checkpointFile: join(dir, 'checkpoint.json'), influxUrl: influx.url, db: DB }),
        '--metrics-addr',
        '127.0.0.1:0',
        '--node-name',
        'n1',
        '--tetragon-metrics',
        url,
      ],
      { KOVENANT_CONFIG: '' },
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);

    const time = (): string => new Date().toISOString();
    const lines: string[] = [];
    for (let i = 0; i < 40; i++)
      lines.push(
        kprobeLine({
          fn: 'tcp_sendmsg',
          node: 'n1',
          time: time(),
          sock: { saddr: '10.0.0.1', sport: 40000, daddr: '203.0.113.5', dport: 443 },
          size: '100',
        }),
      );
    for (const n of ['5', '7', '11'])
      lines.push(JSON.stringify({ rate_limit_info: { number_of_dropped_process_events: n }, node_name: 'n1', time: time() }));
    lines.push(JSON.stringify({ process_throttle: { type: 'THROTTLE_START', cgroup: '/kubepods/a' }, node_name: 'n1', time: time() }));
    lines.push(JSON.stringify({ process_throttle: { type: 'THROTTLE_STOP', cgroup: '/kubepods/a' }, node_name: 'n1', time: time() }));
    lines.push(JSON.stringify({ process_throttle: { type: 'THROTTLE_START', cgroup: '/kubepods/b' }, node_name: 'n1', time: time() }));
    lines.push('garbage', '{"process_kprobe":');
    appendFileSync(log, lines.join('\n') + '\n');

    await waitFor(
      'the daemon to read every line',
      async () => metricValue(await daemonMetrics(daemon!), 'kovenant_events_read_total') === lines.length,
      20_000,
      100,
    );
    // A few scrapes after the failing third one, so the kernel counters have grown.
    await waitFor('five scrapes of the fake Tetragon', () => fake.requests() >= 5, 30_000, 100);
    const exported = await daemonMetrics(daemon);
    expect(exported).toContain('kovenant_source_events_lost_total{reason="rate_limit"} 23');
    expect(exported).toMatch(/kovenant_source_events_lost_total\{reason="bpf_missed"\} [1-9]/);
    expect(exported).toMatch(/kovenant_source_events_lost_total\{reason="probe_missed"\} [1-9]/);
    expect(exported).toContain('kovenant_source_throttles_total 2');
    expect(exported).toContain('kovenant_collector_events_total{what="tetragon_scrape_errors"} 1');
    expect(daemon.stderr()).toContain("cannot read Tetragon's loss counters");

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(30_000)).toBe(0);
    const [row] = await influxQuery(
      influx.url,
      DB,
      'SELECT sum(events_read) AS r, sum(events_rejected) AS j, sum(events_lost) AS l, sum(throttles) AS t, sum(kernel_events_lost) AS k, count(events_read) AS points FROM kovenant_source GROUP BY node, source',
    );
    expect(row!.tags).toEqual({ node: 'n1', source: 'file' });
    const v = Object.fromEntries(row!.columns.map((c, i) => [c, row!.values[0]![i]]));
    // Every scrape but the failed one was used; the first is the baseline.
    expect(v).toMatchObject({ r: lines.length, j: 2, l: 23, t: 2, k: fake.served.at(-1)! - fake.served[0]! });
    expect(v.k).toBeGreaterThan(0);

    // The traffic dashboard's completeness panels over what the daemon wrote.
    const dashboard = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../dashboards/kovenant-traffic.json'), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ refId: string; query?: string }> }>;
    };
    const targets = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).filter((t) => t.query?.includes('kovenant_source')).map((t) => ({ panel: p.title, ...t })),
    );
    expect(targets.length).toBeGreaterThanOrEqual(4);
    for (const t of targets) {
      const q = t
        .query!.replaceAll('$timeFilter', `time >= ${started - 60_000}ms and time <= ${Date.now() + 60_000}ms`)
        .replaceAll('$__interval_ms', '10000')
        .replaceAll('$__interval', '10s')
        .replaceAll('/^$cluster$/', '/^.*$/');
      const series = await influxQuery(influx.url, DB, q);
      expect(
        series.some((s) => s.values.some((r) => r[1] !== null)),
        `${t.panel} / ${t.refId}`,
      ).toBe(true);
    }
  }, 120_000);
});
