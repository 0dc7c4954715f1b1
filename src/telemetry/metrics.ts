/**
 * The daemon's Prometheus metrics (prom-client) and its HTTP endpoint: `/metrics`,
 * `/healthz` (the process runs) and `/readyz` (Kubernetes metadata synced). Values are
 * read from the pipeline's own counters at scrape time, so the hot path pays nothing.
 * The names are a contract with the Grafana dashboards.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventCounters } from '../pipeline/event-counters.ts';
import { InputError } from '../core/input-error.ts';
import type { DeliveryStats } from '../sinks/delivery-stats.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';

export interface MetricSources {
  counters: EventCounters;
  openWindows(): number;
  /** Seconds between now and the newest event time seen; undefined before any event. */
  lagSeconds(): number | undefined;
  sinkStats?: () => DeliveryStats | undefined;
  metadataObjects?: () => Record<string, number> | undefined;
  metadataSynced(): boolean;
  /** Since when the API server has been failing while the last known state is served. */
  metadataOutageSinceMs?: () => number | undefined;
  /** Named extra counters (collectors): name → total. */
  collectorCounts?: () => Record<string, number>;
  /** External peers folded into remote_name=other by the cardinality guard. */
  externalPeersFolded?: () => number;
  /** Checkpoints of a followed file saved and failed to save. */
  checkpointSaves?: () => { saved: number; failed: number };
}

/** Makes a monotonically growing total from a value read at scrape time. */
function syncCounter(counter: Counter<string>, labels: Record<string, string>, seen: Map<string, number>, total: number): void {
  // Keyed by metric too: several counters share the empty label set.
  const key = `${(counter as unknown as { name: string }).name}${JSON.stringify(labels)}`;
  const before = seen.get(key) ?? 0;
  if (total > before) counter.inc(labels, total - before);
  seen.set(key, total);
}

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly writeDuration: Histogram<string>;
  constructor(sources: MetricSources) {
    const r = [this.registry];
    // Counter totals already reported, so scrapes add only what grew since.
    const seen = new Map<string, number>();
    const counters = sources.counters;
    collectDefaultMetrics({ register: this.registry, prefix: 'kovenant_process_' });
    new Counter({
      name: 'kovenant_events_read_total', help: 'Non-blank lines read from the event source', registers: r,
      collect() { syncCounter(this, {}, seen, counters.read); },
    });
    new Counter({
      name: 'kovenant_events_used_total', help: 'Events aggregated into windows', registers: r,
      collect() { syncCounter(this, {}, seen, counters.used); },
    });
    new Counter({
      name: 'kovenant_events_skipped_total', help: 'Events of types kovenant does not count, by type', labelNames: ['type'], registers: r,
      collect() { for (const [type, n] of counters.skipped) syncCounter(this, { type }, seen, n); },
    });
    new Counter({
      name: 'kovenant_events_rejected_total', help: 'Lines that could not be decoded, by reason', labelNames: ['reason'], registers: r,
      collect() { for (const [reason, n] of counters.rejected) syncCounter(this, { reason }, seen, n); },
    });
    new Counter({
      name: 'kovenant_events_late_total', help: 'Events whose window had closed (added to the oldest open window)', registers: r,
      collect() { syncCounter(this, {}, seen, counters.late); },
    });
    new Counter({
      name: 'kovenant_points_written_total', help: 'Points handed to the sink and accepted', registers: r,
      collect() { syncCounter(this, {}, seen, counters.pointsWritten); },
    });
    new Gauge({
      name: 'kovenant_lag_seconds', help: 'Wall clock minus the newest event time (end-to-end lag of the event stream)', registers: r,
      collect() { const lag = sources.lagSeconds(); if (lag !== undefined) this.set(lag); },
    });
    new Gauge({
      name: 'kovenant_open_windows', help: 'Windows open in the aggregator', registers: r,
      collect() { this.set(sources.openWindows()); },
    });
    new Gauge({
      name: 'kovenant_spool_bytes', help: 'Bytes waiting in the sink spool', registers: r,
      collect() { this.set(sources.sinkStats?.()?.spoolBytes ?? 0); },
    });
    new Gauge({
      name: 'kovenant_metadata_objects', help: 'Kubernetes objects in the metadata store, by resource', labelNames: ['resource'], registers: r,
      collect() { for (const [resource, n] of Object.entries(sources.metadataObjects?.() ?? {})) this.set({ resource }, n); },
    });
    new Gauge({
      name: 'kovenant_metadata_synced', help: '1 when the Kubernetes metadata store has synced', registers: r,
      collect() { this.set(sources.metadataSynced() ? 1 : 0); },
    });
    new Gauge({
      name: 'kovenant_metadata_outage_seconds',
      help: 'Seconds the Kubernetes API has been failing while the last known metadata is served (0 when healthy)',
      registers: r,
      collect() {
        const since = sources.metadataOutageSinceMs?.();
        this.set(since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000));
      },
    });
    new Counter({
      name: 'kovenant_collector_events_total', help: 'Node collector happenings (folded peers, vanished flows, unknown pods, scan errors), by collector and what', labelNames: ['what'], registers: r,
      collect() { for (const [what, n] of Object.entries(sources.collectorCounts?.() ?? {})) syncCounter(this, { what }, seen, n); },
    });
    new Counter({
      name: 'kovenant_external_peers_folded_total', help: 'External peers folded into remote_name=other by --max-external-peers (per window and measurement)', registers: r,
      collect() { syncCounter(this, {}, seen, sources.externalPeersFolded?.() ?? 0); },
    });
    new Counter({
      name: 'kovenant_checkpoint_saves_total', help: 'Checkpoints of the followed event file, by result (ok, failed)', labelNames: ['result'], registers: r,
      collect() {
        const s = sources.checkpointSaves?.();
        if (!s) return;
        syncCounter(this, { result: 'ok' }, seen, s.saved);
        syncCounter(this, { result: 'failed' }, seen, s.failed);
      },
    });
    this.writeDuration = new Histogram({
      name: 'kovenant_write_duration_seconds', help: 'Time the sink took to accept a batch of points', registers: r,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    });
  }

  /** The sink with each write timed into kovenant_write_duration_seconds. */
  timed(sink: MetricSink): MetricSink {
    const histogram = this.writeDuration;
    return {
      async write(points: readonly MetricPoint[]): Promise<void> {
        const end = histogram.startTimer();
        try {
          await sink.write(points);
        } finally {
          end();
        }
      },
      close: () => sink.close(),
    };
  }
}

/** `:9464` (all interfaces), `127.0.0.1:9464`, `[::1]:9464`. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || undefined, port: Number(addr.slice(i + 1)) };
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(metrics: DaemonMetrics, addr: string, ready: () => boolean): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(addr);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok\n');
    } else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ready\n' : 'waiting for Kubernetes metadata\n');
    } else {
      res.writeHead(404).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new InputError(`--metrics-addr ${addr}: cannot listen (${err.code})`, 'choose a free port, or --metrics-addr off')
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
