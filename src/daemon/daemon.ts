/**
 * The node daemon (`kovenant run`), assembled from its config. Follows the event stream, samples the node
 * collectors, closes windows live and writes them to the sink until SIGTERM/SIGINT or
 * `--duration`; then stops reading, flushes the open windows, waits for the sink and
 * exits 0.
 */
import { existsSync } from 'node:fs';
import { DynamicWindows, describeRungs } from '../aggregate/dynamic-windows.ts';
import { WindowAggregator, describeWindows, type AggregatorState } from '../aggregate/window-aggregator.ts';
import { MAX_WINDOW_MS } from '../aggregate/window.ts';
import { ladderBetween } from '../aggregate/window-ladder.ts';
import { isCollectorKey, type NodeCollector } from '../collectors/collector.ts';
import { ConntrackCollector } from '../collectors/conntrack/conntrack-collector.ts';
import { ConntrackServiceNat } from '../collectors/conntrack/service-nat.ts';
import { NodeCpuCollector } from '../collectors/cpu/proc-stat.ts';
import { PodCpuCollector } from '../collectors/cpu/pod-cpu.ts';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { checkpointFileOf } from '../config/daemon-config.ts';
import { CheckpointFile, CheckpointTracker } from '../pipeline/checkpoint.ts';
import { createDecoder } from '../decode/default-decoder.ts';
import { MetadataIndex } from '../enrich/metadata/metadata-index.ts';
import type { MetricSink } from '../core/metric-point.ts';
import { Resolver } from '../enrich/resolver.ts';
import { EventCounters } from '../pipeline/event-counters.ts';
import { runLive, startCollectors } from '../pipeline/live.ts';
import type { ByteInput } from '../sources/byte-input.ts';
import { openByteInput } from '../sources/byte-input.ts';
import { FileFollower } from '../sources/file-follower.ts';
import { SourceCollector } from '../collectors/source/source-collector.ts';
import { scrapeTetragonLosses } from '../collectors/source/tetragon-metrics.ts';
import { hostname } from 'node:os';
import { DaemonMetrics, serveMetrics, type MetricsServer } from '../telemetry/metrics.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';
import { openMetadata } from './metadata.ts';
import { openSink, type OutputOptions } from './sinks.ts';
import { dnsCacheOf, openDnstap, type DnstapFeeds } from './dnstap.ts';

interface OpenedEvents {
  input: ByteInput | undefined;
  /** Saves checkpoints as batches are acknowledged (`file:` sources only). */
  checkpoint?: CheckpointTracker;
}

/**
 * Opens `--events`: `none`, `-`, `file:PATH` (followed until `signal` aborts). A file
 * resumes from its checkpoint: the follower at the saved offset and `aggregator` with
 * the saved open windows (it must not have taken anything yet).
 */
async function openEvents(config: DaemonConfig, aggregator: WindowAggregator, signal: AbortSignal, log: Logger): Promise<OpenedEvents> {
  const events = config.events;
  if (events === 'none') return { input: undefined };
  if (events === '-') return { input: await openByteInput('-') };
  if (events === 'k8s-logs') return { input: await openK8sLogEvents(config, signal, log) };
  const path = events.slice('file:'.length);
  const store = new CheckpointFile(checkpointFileOf(config));
  let saved = await store.load();
  if (saved && saved.path !== path) {
    log.warn({ checkpoint: store.file, checkpointPath: saved.path, path }, 'the checkpoint is of another events file; ignoring it and reading this one from its start');
    saved = undefined;
  }
  if (saved) {
    if (describeWindows(saved.aggregator) !== aggregator.windowsDescription) {
      throw new InputError(
        `checkpoint ${store.file}: its open windows are ${describeWindows(saved.aggregator)}, but this run's are ${aggregator.windowsDescription}`,
        `restart once with ${windowFlagsOf(saved.aggregator)}, stop it with SIGTERM (which flushes the windows), then change the windows; or remove ${store.file} and lose the open windows`,
      );
    }
    aggregator.restore(saved.aggregator);
  }
  const follower = new FileFollower(path, {
    signal,
    resumeFrom: saved?.position,
    onMissed: (missed) =>
      log.error(
        { path, file: missed.file, bytesMissed: missed.bytes ?? 'unknown', estimated: missed.estimated, reason: missed.reason },
        `DATA LOSS: events file ${missed.file} is gone before it was read; ${missed.bytes === undefined ? 'an unknown number of' : `${missed.estimated ? 'about ' : ''}${missed.bytes}`} bytes of events are missing. Keep more backups (Tetragon exportFileMaxBackups) or give kovenant a faster sink`,
      ),
    onResume: (outcome) => {
      if (outcome.kind === 'resumed') log.info({ path, offset: outcome.offset, checkpoint: store.file }, 'resuming the events file at its checkpoint');
      else if (outcome.kind === 'rotated') log.info({ path, rotated: outcome.rotatedPath, offset: outcome.offset }, 'the events file was rotated while stopped: reading the rest of the rotated file first');
      else if (outcome.kind === 'missed') log.warn({ path, reason: outcome.reason, checkpoint: store.file }, 'cannot resume at the checkpoint: reading the current file from its start; events written after the checkpoint to the file that went away are missing');
    },
  });
  const checkpoint = new CheckpointTracker(store, follower, aggregator, (err) =>
    log.warn({ checkpoint: store.file, err: (err as Error).message }, 'cannot save the checkpoint; a restart would re-read from the previous one. Is its directory writable (--checkpoint-file)?'),
  );
  return { input: follower, checkpoint };
}

function windowFlagsOf(state: AggregatorState): string {
  if (!state.dynamic) return `--window ${state.windowMs}ms`;
  const max = state.dynamic.rungs[state.dynamic.rungs.length - 1]!;
  return `--window dynamic --window-max ${max}ms`;
}

/**
 * `--window`: a fixed length, or `dynamic` (the ladder's lengths from the shortest up to
 * `--window-max`, driven by `--series-budget`).
 */
function aggregatorOf(config: DaemonConfig, latenessMs: number, log: Logger): WindowAggregator {
  if (config.window !== 'dynamic') {
    const windowMs = parseDuration(config.window, '--window');
    if (windowMs <= 0) throw new InputError('--window must be longer than 0');
    if (windowMs > MAX_WINDOW_MS) throw new InputError(`--window ${config.window}: longer than a day`, 'give --window 1d or less, e.g. 10s');
    return new WindowAggregator({ windowMs, latenessMs, maxExternalPeers: config.maxExternalPeers });
  }
  const maxMs = parseDuration(config.windowMax, '--window-max');
  let rungs: number[];
  try {
    rungs = ladderBetween(0, maxMs);
  } catch (err) {
    throw new InputError(`--window-max ${config.windowMax}: ${(err as Error).message}`, 'give --window-max 10s or more, e.g. 1m');
  }
  const dynamic = new DynamicWindows({
    rungs,
    budgetPerMinute: config.seriesBudget,
    onSwitch: (change) =>
      log.info({ fromMs: change.fromMs, from: new Date(change.fromMs).toISOString(), windowMs: change.lengthMs, previousMs: change.previousMs, seriesBudget: config.seriesBudget }, 'window length changes'),
  });
  log.info({ lengths: describeRungs(rungs), seriesBudget: config.seriesBudget }, 'dynamic windows');
  return new WindowAggregator({ dynamic, latenessMs, maxExternalPeers: config.maxExternalPeers });
}

/**
 * `--events k8s-logs`: every Tetragon pod's export log through the API server. No
 * checkpoint: a restart reads each pod's log from the start of what the kubelet keeps
 * (windows rewritten with the same values where the events are the same).
 */
async function openK8sLogEvents(config: DaemonConfig, signal: AbortSignal, log: Logger): Promise<ByteInput> {
  // Loaded on demand: client-node costs about two seconds to import.
  const [{ loadKubeConfig }, { openK8sLogs }] = await Promise.all([import('../enrich/metadata/kube-config.ts'), import('../sources/k8s-logs.ts')]);
  const kube = loadKubeConfig({ kubeconfig: config.kubeconfig, context: config.context });
  log.info({ server: kube.server, from: kube.source, namespace: config.tetragonNamespace, selector: config.tetragonSelector, container: config.tetragonContainer }, 'k8s-logs: following the Tetragon pods');
  return openK8sLogs({
    config: kube.config,
    server: kube.server,
    namespace: config.tetragonNamespace,
    selector: config.tetragonSelector,
    container: config.tetragonContainer,
    signal,
    log,
  });
}

/** The daemon config's sink keys as `openSink` takes them. */
function outputOptionsOf(config: DaemonConfig): OutputOptions {
  return {
    output: config.output === 'influx-v1' || config.output === 'influx-v2' ? 'influx' : config.output,
    out: config.out,
    influxApi: config.output === 'influx-v1' ? 'v1' : config.output === 'influx-v2' ? 'v2' : config.influxApi,
    influxUrl: config.influxUrl,
    influxOrg: config.influxOrg,
    influxBucket: config.influxBucket,
    influxToken: config.influxToken,
    influxTokenFile: config.influxTokenFile,
    influxDb: config.influxDb,
    influxRp: config.influxRp,
    influxUsername: config.influxUsername,
    influxPasswordFile: config.influxPasswordFile,
    spoolDir: config.spoolDir,
    spoolMaxBytes: config.spoolMaxBytes,
    flushInterval: config.flushInterval,
    spoolFsync: config.spoolFsync,
    batchSize: config.batchSize === undefined ? undefined : String(config.batchSize),
    drainTimeout: config.drainTimeout,
  };
}

function collectorsOf(config: DaemonConfig, resolver: Resolver, counters: EventCounters, log: Logger, serviceNat: ConntrackServiceNat | undefined): NodeCollector[] {
  const out: NodeCollector[] = [];
  if (config.events !== 'none') {
    const url = config.tetragonMetrics;
    out.push(
      new SourceCollector({
        counters,
        // One sample per window at least, and a dashboard point every 10 s at most.
        intervalMs: config.window === 'dynamic' ? 10_000 : Math.min(10_000, Math.max(1000, parseDuration(config.window, '--window'))),
        nodeName: config.nodeName ?? hostname(),
        source: config.events === '-' ? 'stdin' : config.events === 'k8s-logs' ? 'k8s-logs' : 'file',
        cluster: config.clusterName,
        scrapeTetragon: url ? () => scrapeTetragonLosses(url) : undefined,
        onScrapeError: (err) => log.warn({ err: (err as Error).message }, "cannot read Tetragon's loss counters; kernel_events_lost counts the increase at the next scrape"),
      }),
    );
  }
  if (config.conntrack) {
    out.push(
      new ConntrackCollector({
        procRoot: config.procRoot,
        intervalMs: parseDuration(config.conntrackInterval, '--conntrack-interval'),
        nodeName: config.nodeName,
        resolver,
        keepNode: config.conntrackKeepNode,
        serviceNat,
      }),
    );
  }
  if (config.cpu) {
    const interval = parseDuration(config.cpuInterval, '--cpu-interval');
    out.push(new NodeCpuCollector(config.procRoot, interval, config.nodeName, undefined, resolver));
    out.push(new PodCpuCollector(config.cgroupRoot, interval, config.nodeName, resolver.store, resolver));
  }
  return out;
}

/** In a pod: the service account's token and the API server's address are there. */
function runningInCluster(): boolean {
  return Boolean(process.env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
}

export async function runDaemon(config: DaemonConfig, stderr: (text: string) => void): Promise<void> {
  const log = createLogger('kovenant-run');
  const latenessMs = parseDuration(config.lateness, '--lateness');
  const aggregator = aggregatorOf(config, latenessMs, log);

  // A snapshot when given; otherwise live watches: in-cluster, --kubeconfig/--context,
  // KUBECONFIG or ~/.kube/config. The daemon reports readiness itself instead of blocking.
  const metadata = await openMetadata(
    config.kube?.length
      ? { kube: config.kube, allowEmptyKube: config.allowEmptyKube }
      : { kubeconfig: config.kubeconfig, context: config.context, inCluster: runningInCluster(), waitForSync: false },
    stderr,
  );
  const dnsNames = dnsCacheOf(config);
  // The conntrack table also tells which backend each Service connection went to.
  const serviceNat = config.conntrack ? new ConntrackServiceNat() : undefined;
  const resolver = new Resolver(metadata.store, { maxCachedEntries: config.maxCachedEntries, dnsNames, cluster: config.clusterName, serviceNat });
  const counters = new EventCounters();
  const collectors = collectorsOf(config, resolver, counters, log, serviceNat);
  const collectorErrors = new Map<string, number>();
  // Everything opened below is released on every path, failures included: an open sink
  // (its delivery loop), a followed source or a metrics server would keep the process
  // alive after the error is reported.
  const readerStop = new AbortController();
  let sink: MetricSink | undefined;
  let sinkClosed = false;
  let metricsServer: MetricsServer | undefined;
  let dnstap: DnstapFeeds | undefined;
  try {
    // Before the collectors' baseline: a checkpoint replaces the aggregator's state.
    // The sink first: a bad --spool-dir must be named as such, not as the checkpoint
    // file the daemon keeps beside it.
    const opened = await openSink(outputOptionsOf(config));
    sink = opened.sink;
    const { input, checkpoint } = await openEvents(config, aggregator, readerStop.signal, log);
    if (dnsNames) dnstap = await openDnstap(config, dnsNames, log);
    let externalPeersFolded = 0;
    const metrics = new DaemonMetrics({
      counters,
      openWindows: () => aggregator.openWindows,
      lagSeconds: () => {
        const newest = aggregator.newestWatermark((node) => !isCollectorKey(node));
        return Number.isFinite(newest) ? Math.max(0, (Date.now() - newest) / 1000) : undefined;
      },
      sinkStats: () => statsOf(opened.sink),
      metadataSynced: () => metadata.isReady(),
      metadataOutageSinceMs: () => metadata.status()?.outageSinceMs,
      metadataObjects: () => metadata.status()?.counts ?? (metadata.store instanceof MetadataIndex ? metadata.store.sizes() : undefined),
      collectorCounts: () => collectorCounts(collectors, collectorErrors),
      // Folded while aggregating (memory) and when a window is written (the exact bound).
      externalPeersFolded: () => externalPeersFolded + aggregator.externalPeersFolded,
      attributionCache: () => ({ entries: resolver.cache.size, evictions: resolver.cache.evictions }),
      checkpointSaves: checkpoint ? () => ({ saved: checkpoint.saved, failed: checkpoint.failed }) : undefined,
      dnstap: dnstap && dnsNames ? () => ({ ...dnstap!.stats(), cache: dnsNames.stats() }) : undefined,
      sourceFiles: input instanceof FileFollower ? () => ({ renames: input.renames, truncations: input.truncations, filesMissed: input.filesMissed, bytesMissed: input.bytesMissed }) : undefined,
      kernelLost: () => collectors.find((c): c is SourceCollector => c instanceof SourceCollector)?.kernelLost,
    });
    if (config.metricsAddr !== 'off') {
      metricsServer = await serveMetrics(metrics, config.metricsAddr, () => metadata.isReady());
      log.info({ addr: config.metricsAddr, port: metricsServer.port }, 'metrics listening');
    }

    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping: flushing open windows (a second signal exits at once)');
      // The handler is a `once`: a second signal would get the default action anyway;
      // this one says so first and exits as a signal would.
      process.once(signal, () => {
        log.warn({ signal }, 'second signal: exiting at once; unflushed windows are lost (a file: source resumes from its checkpoint)');
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
      stop.abort();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const durationTimer = config.duration ? setTimeout(() => stop.abort(), parseDuration(config.duration, '--duration')) : undefined;
    try {
      if (!metadata.isReady()) {
        // Events attributed before the caches are complete would land on the wrong pods.
        log.info('waiting for Kubernetes metadata before reading events (/readyz answers 503 until then)');
        await Promise.race([metadata.synced, new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }))]);
        if (metadata.isReady()) log.info({ counts: metadata.status()?.counts }, 'Kubernetes metadata synced');
      }
      // After the wait, so that the first sample covers one interval, not the wait; and
      // still before "running": refusals (accounting off, no /proc) come first.
      await startCollectors(collectors, aggregator, Date.now());
      log.info({ events: config.events, collectors: collectors.map((c) => c.name), windows: aggregator.windowsDescription, latenessMs, node: config.nodeName }, 'running');
      await runLive({
        // Stopped while waiting for metadata: nothing may be read with an unsynced store.
        input: stop.signal.aborted ? undefined : input,
        collectors,
        resolver,
        sink: metrics.timed(opened.sink),
        decoder: createDecoder(),
        aggregator,
        counters,
        stop: stop.signal,
        maxExternalPeers: config.maxExternalPeers,
        maxClockSkewMs: parseDuration(config.maxClockSkew, '--max-clock-skew'),
        onPeersFolded: (n) => (externalPeersFolded += n),
        checkpoint,
        onCollectorError: (c, err) => {
          collectorErrors.set(c.name, (collectorErrors.get(c.name) ?? 0) + 1);
          log.warn({ collector: c.name, err: (err as Error).message }, 'collector sample failed; retrying next interval');
        },
      });
      sinkClosed = true;
      await opened.sink.close();
      const failure = opened.deliveryFailure?.();
      if (failure) log.error({ err: failure.message }, 'points not acknowledged at exit');
    } finally {
      clearTimeout(durationTimer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    log.info({ read: counters.read, used: counters.used, late: counters.late, points: counters.pointsWritten }, 'stopped');
  } finally {
    readerStop.abort();
    // A pending read would keep the process alive after the flush.
    if (config.events === '-') process.stdin.destroy();
    // On a failure path: what is spooled stays on disk; only the delivery loop must stop.
    if (sink && !sinkClosed) await sink.close().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sink not flushed'));
    await metricsServer?.close();
    await dnstap?.close();
    await metadata.close();
  }
}


function collectorCounts(collectors: readonly NodeCollector[], collectorErrors: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of collectorErrors) out[`${name}_errors`] = n;
  for (const c of collectors) {
    if (c instanceof ConntrackCollector) {
      const s = c.stats();
      out.conntrack_vanished_flows = s.flowsVanished;
      out.conntrack_flow_resets = s.flowResets;
      out.conntrack_skipped_node_flows = s.skippedNodeFlows;
      out.conntrack_skipped_external_flows = s.skippedExternalFlows;
    } else if (c instanceof PodCpuCollector) {
      out.cpu_unknown_pods = c.unknownPods;
    } else if (c instanceof SourceCollector) {
      out.tetragon_scrape_errors = c.scrapeErrors;
    }
  }
  return out;
}

/** Delivering sinks (InfluxDB) expose `stats()`; the line sink does not. */
function statsOf(sink: object): ReturnType<NonNullable<import('../telemetry/metrics.ts').MetricSources['sinkStats']>> {
  const s = sink as { stats?: () => unknown };
  return typeof s.stats === 'function' ? (s.stats() as ReturnType<NonNullable<import('../telemetry/metrics.ts').MetricSources['sinkStats']>>) : undefined;
}
