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
import { BLOCKED_REASONS, type DeliveryStats } from '../sinks/delivery-stats.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { tagValueChanges } from '../core/series.ts';
import type { ComponentKind, ComponentStats } from '../core/component.ts';

/** One assembled part and its `stats()` (src/core/component.ts). */
export interface ComponentReport {
  kind: ComponentKind;
  /** The registry name (`follow`, `influx`, `conntrack`, ...). */
  name: string;
  stats: ComponentStats;
}

export interface MetricSources {
  counters: EventCounters;
  openWindows(): number;
  /** Seconds between now and the newest event time seen; undefined before any event. */
  lagSeconds(): number | undefined;
  /**
   * Every part's stats, read at scrape time: the sink's `spoolBytes` and `blocked.<reason>`,
   * the source's `renames`, `truncations`, `filesMissed`, `bytesMissed`, `reconnects`, the
   * collectors' counts (`lost.<reason>`: Tetragon's own losses), the enrichers' (`metadata`:
   * `synced`, `outageSeconds`, `objects.<resource>`; `dnstap`: `frames`, `connections`,
   * `parseErrors`, `cache.size`, `cache.evictions`, `cache.hits`, `cache.misses`). Each also appears as
   * kovenant_component_stat{kind,component,stat}.
   */
  components?: () => readonly ComponentReport[];
  /** A single delivering sink's stats without the component model (tests of one sink). */
  sinkStats?: () => DeliveryStats | undefined;
  /** Lines the fast decoder handed to the reference decoder. */
  decoderFallbacks?: () => number;
  /** Readiness (`/readyz` too); the metadata component's `synced` stat when there is one. */
  metadataSynced(): boolean;
  /** External peers folded into remote_name=other by the cardinality guard. */
  externalPeersFolded?: () => number;
  /** The resolver's attribution cache: entries held and evicted to stay within its bound. */
  attributionCache?: () => { entries: number; evictions: number };
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

/** The stats of the parts of one kind, merged (one sink, one source: their own names). */
function statsOfKind(sources: MetricSources, kind: ComponentKind): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of sources.components?.() ?? []) if (c.kind === kind) Object.assign(out, c.stats);
  return out;
}

/** One part's stats, if it was built (`enricher` `metadata`, `enricher` `dnstap`). */
function statsOf(sources: MetricSources, kind: ComponentKind, name: string): ComponentStats | undefined {
  return sources.components?.().find((c) => c.kind === kind && c.name === name)?.stats;
}

const LOST = 'lost.';
const OBJECTS = 'objects.';

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
      name: 'kovenant_events_read_total',
      help: 'Non-blank lines read from the event source',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, counters.read);
      },
    });
    new Counter({
      name: 'kovenant_events_used_total',
      help: 'Events aggregated into windows',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, counters.used);
      },
    });
    new Counter({
      name: 'kovenant_events_skipped_total',
      help: 'Events of types kovenant does not count, by type',
      labelNames: ['type'],
      registers: r,
      collect() {
        for (const [type, n] of counters.skipped) syncCounter(this, { type }, seen, n);
      },
    });
    new Counter({
      name: 'kovenant_events_rejected_total',
      help: 'Lines that could not be decoded, by reason',
      labelNames: ['reason'],
      registers: r,
      collect() {
        for (const [reason, n] of counters.rejected) syncCounter(this, { reason }, seen, n);
      },
    });
    new Counter({
      name: 'kovenant_events_late_total',
      help: 'Events whose window had closed (added to the oldest open window)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, counters.late);
      },
    });
    new Counter({
      name: 'kovenant_points_written_total',
      help: 'Points handed to the sink and accepted',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, counters.pointsWritten);
      },
    });
    new Gauge({
      name: 'kovenant_lag_seconds',
      help: 'Wall clock minus the newest event time (end-to-end lag of the event stream)',
      registers: r,
      collect() {
        const lag = sources.lagSeconds();
        if (lag !== undefined) this.set(lag);
      },
    });
    new Gauge({
      name: 'kovenant_open_windows',
      help: 'Windows open in the aggregator',
      registers: r,
      collect() {
        this.set(sources.openWindows());
      },
    });
    new Gauge({
      name: 'kovenant_spool_bytes',
      help: 'Bytes of unsent points in the sink spool (0 once everything is delivered)',
      registers: r,
      collect() {
        this.set(sources.sinkStats?.()?.spoolBytes ?? statsOfKind(sources, 'sink').spoolBytes ?? 0);
      },
    });
    new Gauge({
      name: 'kovenant_sink_blocked',
      help: '1 while InfluxDB refuses every write for this reason (unauthorized 401, forbidden 403, not_found 404) and the points wait in the disk spool',
      labelNames: ['reason'],
      registers: r,
      collect() {
        const single = sources.sinkStats?.();
        const stats = single ? undefined : statsOfKind(sources, 'sink');
        for (const reason of BLOCKED_REASONS)
          this.set({ reason }, single ? (reason === single.blockedReason ? 1 : 0) : (stats?.[`blocked.${reason}`] ?? 0));
      },
    });
    new Gauge({
      name: 'kovenant_metadata_objects',
      help: 'Kubernetes objects in the metadata store, by resource',
      labelNames: ['resource'],
      registers: r,
      collect() {
        for (const [stat, n] of Object.entries(statsOf(sources, 'enricher', 'metadata') ?? {}))
          if (stat.startsWith(OBJECTS)) this.set({ resource: stat.slice(OBJECTS.length) }, n);
      },
    });
    new Gauge({
      name: 'kovenant_metadata_synced',
      help: '1 when the Kubernetes metadata store has synced',
      registers: r,
      collect() {
        this.set(sources.metadataSynced() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kovenant_metadata_outage_seconds',
      help: 'Seconds the Kubernetes API has been failing while the last known metadata is served (0 when healthy)',
      registers: r,
      collect() {
        this.set(statsOf(sources, 'enricher', 'metadata')?.outageSeconds ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_collector_events_total',
      help: 'Node collector happenings (folded peers, vanished flows, unknown pods, scan errors), by collector and what',
      labelNames: ['what'],
      registers: r,
      collect() {
        for (const [what, n] of Object.entries(statsOfKind(sources, 'collector')))
          if (!what.startsWith(LOST)) syncCounter(this, { what }, seen, n);
      },
    });
    new Counter({
      name: 'kovenant_external_peers_folded_total',
      help: 'External peers folded into remote_name=other by --max-external-peers (per window and measurement)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, sources.externalPeersFolded?.() ?? 0);
      },
    });
    new Gauge({
      name: 'kovenant_attribution_cache_entries',
      help: 'Entries in the attribution cache (bounded by --max-cached-entries)',
      registers: r,
      collect() {
        const c = sources.attributionCache?.();
        if (c) this.set(c.entries);
      },
    });
    new Counter({
      name: 'kovenant_attribution_cache_evictions_total',
      help: 'Least recently used entries evicted from the attribution cache to stay within --max-cached-entries',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, sources.attributionCache?.()?.evictions ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_tag_values_cut_total',
      help: 'Tag values longer than the line-protocol limit (512 bytes), cut to it (once per series)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, tagValueChanges.cut);
      },
    });
    new Counter({
      name: 'kovenant_checkpoint_saves_total',
      help: 'Checkpoints of the followed event file, by result (ok, failed)',
      labelNames: ['result'],
      registers: r,
      collect() {
        const s = sources.checkpointSaves?.();
        if (!s) return;
        syncCounter(this, { result: 'ok' }, seen, s.saved);
        syncCounter(this, { result: 'failed' }, seen, s.failed);
      },
    });
    // Only when the daemon receives dnstap: the parts are built before the metrics.
    if (statsOf(sources, 'enricher', 'dnstap')) this.addDnstap(() => statsOf(sources, 'enricher', 'dnstap') ?? {}, seen);
    new Counter({
      name: 'kovenant_source_events_lost_total',
      help: 'Events Tetragon did not deliver, by reason: rate_limit (rate_limit_info in the stream), and with --tetragon-metrics its own counters (bpf_missed, ringbuf_lost, ringbuf_queue_lost, notify_overflowed, probe_missed)',
      labelNames: ['reason'],
      registers: r,
      collect() {
        for (const [reason, n] of counters.lost) syncCounter(this, { reason }, seen, n);
        for (const [what, n] of Object.entries(statsOfKind(sources, 'collector')))
          if (what.startsWith(LOST)) syncCounter(this, { reason: what.slice(LOST.length) }, seen, n);
      },
    });
    new Counter({
      name: 'kovenant_source_throttles_total',
      help: 'process_throttle THROTTLE_START events: a cgroup whose events Tetragon stopped exporting for a while',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, counters.throttles);
      },
    });
    new Counter({
      name: 'kovenant_source_rotations_total',
      help: 'Rotations of the followed events file, by kind (rename: a backup or renamed file passed; truncation: copy-truncate)',
      labelNames: ['kind'],
      registers: r,
      collect() {
        const s = statsOfKind(sources, 'source');
        if (s.renames === undefined) return;
        syncCounter(this, { kind: 'rename' }, seen, s.renames);
        syncCounter(this, { kind: 'truncation' }, seen, s.truncations ?? 0);
      },
    });
    // Totals read from the parts' stats at scrape time: absent (undefined) when the part is not running.
    const partTotals: [name: string, help: string, read: () => number | undefined][] = [
      [
        'kovenant_source_files_missed_total',
        'Files of the followed events file (rotated backups, the checkpointed file) gone before they were read',
        () => statsOfKind(sources, 'source').filesMissed,
      ],
      [
        'kovenant_source_bytes_missed_total',
        'Bytes of those files not read (exact for backups seen before they went, estimated for the checkpointed file)',
        () => statsOfKind(sources, 'source').bytesMissed,
      ],
      [
        'kovenant_source_reconnects_total',
        'Log streams of the k8s-logs source reopened after they ended or failed',
        () => statsOfKind(sources, 'source').reconnects,
      ],
      [
        'kovenant_decoder_fallbacks_total',
        'Lines the fast decoder handed to the reference decoder (rare value forms)',
        () => sources.decoderFallbacks?.(),
      ],
    ];
    for (const [name, help, read] of partTotals)
      new Counter({
        name,
        help,
        registers: r,
        collect() {
          const n = read();
          if (n !== undefined) syncCounter(this, {}, seen, n);
        },
      });
    new Gauge({
      name: 'kovenant_component_stat',
      help: "Every source's, sink's, collector's and enricher's stats() as read at scrape time, by kind, component and stat",
      labelNames: ['kind', 'component', 'stat'],
      registers: r,
      collect() {
        this.reset();
        for (const c of sources.components?.() ?? [])
          for (const [stat, n] of Object.entries(c.stats)) this.set({ kind: c.kind, component: c.name, stat }, n);
      },
    });
    this.writeDuration = new Histogram({
      name: 'kovenant_write_duration_seconds',
      help: 'Time the sink took to accept a batch of points',
      registers: r,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    });
  }

  private addDnstap(read: () => ComponentStats, seen: Map<string, number>): void {
    const r = [this.registry];
    new Counter({
      name: 'kovenant_dnstap_frames_total',
      help: 'dnstap data frames received (queries and responses)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, read().frames ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_dnstap_connections_total',
      help: 'dnstap sender connections accepted',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, read().connections ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_dnstap_parse_errors_total',
      help: 'dnstap connections closed for malformed input (garbage, truncated frames, undecodable messages)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, read().parseErrors ?? 0);
      },
    });
    new Gauge({
      name: 'kovenant_dns_cache_addresses',
      help: 'Addresses in the DNS name cache',
      registers: r,
      collect() {
        this.set(read()['cache.size'] ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_dns_cache_evictions_total',
      help: 'Addresses evicted from the full DNS name cache (--dns-cache-max)',
      registers: r,
      collect() {
        syncCounter(this, {}, seen, read()['cache.evictions'] ?? 0);
      },
    });
    new Counter({
      name: 'kovenant_dns_lookups_total',
      help: 'External peers looked up in the DNS name cache, by result (hit, miss)',
      labelNames: ['result'],
      registers: r,
      collect() {
        const c = read();
        syncCounter(this, { result: 'hit' }, seen, c['cache.hits'] ?? 0);
        syncCounter(this, { result: 'miss' }, seen, c['cache.misses'] ?? 0);
      },
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
      drain: () => sink.drain?.(),
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
