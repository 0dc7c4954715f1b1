/**
 * The node daemon (`kovenant run`), assembled from its config. Follows the event stream, samples the node
 * collectors, closes windows live and writes them to the sink until SIGTERM/SIGINT or
 * `--duration`; then stops reading, flushes the open windows, waits for the sink and
 * exits 0.
 */
import { existsSync } from 'node:fs';
import { DynamicWindows } from '../aggregate/dynamic-windows.ts';
import { describeRungs } from '../aggregate/window-ladder.ts';
import { WindowAggregator } from '../aggregate/window-aggregator.ts';
import { ladderBetween } from '../aggregate/window-ladder.ts';
import { isCollectorKey } from '../collectors/collector.ts';
import type { CollectorComponent, CollectorContext } from '../collectors/collector-component.ts';
import { ConntrackServiceNat } from '../collectors/conntrack/service-nat.ts';
import { COLLECTORS } from '../collectors/registry.ts';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { parseSettings } from '../core/config-values.ts';
import { DecodeStage } from '../pipeline/decode-stage.ts';
import type { DnstapComponent } from '../enrich/dns/dnstap-component.ts';
import type { MetadataComponent } from '../enrich/metadata/component.ts';
import { ENRICHERS } from '../enrich/registry.ts';
import { Resolver } from '../enrich/resolver.ts';
import { EventCounters } from '../pipeline/event-counters.ts';
import { runLive, startCollectors } from '../pipeline/live.ts';
import type { SinkComponent } from '../sinks/sink-component.ts';
import type { SourceComponent } from '../sources/source-component.ts';
import type { ComponentReport, MetricSources, MetricsServer } from '../telemetry/metrics.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { InputError } from '../core/input-error.ts';
import { openSink, type OutputOptions } from './sinks.ts';
import { openEvents } from './events.ts';
import { runSettingsOf, type RunSettings } from './run-settings.ts';

/**
 * `--window`: a fixed length, or `dynamic` (the ladder's lengths from the shortest up to
 * `--window-max`, driven by `--series-budget`).
 */
function aggregatorOf(config: DaemonConfig, run: RunSettings, log: Logger): WindowAggregator {
  const latenessMs = run.lateness;
  if (run.window !== 'dynamic') {
    return new WindowAggregator({ windowMs: run.window, latenessMs, maxExternalPeers: config.maxExternalPeers });
  }
  const maxMs = run.windowMax;
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
      log.info(
        {
          fromMs: change.fromMs,
          from: new Date(change.fromMs).toISOString(),
          windowMs: change.lengthMs,
          previousMs: change.previousMs,
          seriesBudget: config.seriesBudget,
        },
        'window length changes',
      ),
  });
  log.info({ lengths: describeRungs(rungs), seriesBudget: config.seriesBudget }, 'dynamic windows');
  return new WindowAggregator({ dynamic, latenessMs, maxExternalPeers: config.maxExternalPeers });
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
    batchSize: config.batchSize,
    drainTimeout: config.drainTimeout,
  };
}

/** The collectors the config asks for, built through the registry. */
async function collectorsOf(config: DaemonConfig, context: CollectorContext): Promise<CollectorComponent[]> {
  const out: CollectorComponent[] = [];
  for (const factory of COLLECTORS) {
    const settings = parseSettings(factory.schema, config, `collector ${factory.name}`);
    if (factory.enabled(settings)) out.push(await factory.create(settings, context));
  }
  return out;
}

/** In a pod: the service account's token and the API server's address are there. */
function runningInCluster(): boolean {
  return Boolean(process.env.KUBERNETES_SERVICE_HOST) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
}

export async function runDaemon(config: DaemonConfig): Promise<void> {
  const log = createLogger('kovenant-run');
  const run = runSettingsOf(config);
  const latenessMs = run.lateness;
  const aggregator = aggregatorOf(config, run, log);

  const readerStop = new AbortController();
  // Parsed before anything opens: a bad --dnstap-listen is a usage error, not a half-started daemon.
  const dnstapFactory = ENRICHERS.dnstap;
  const dnstapSettings = parseSettings(dnstapFactory.schema, config, 'dnstap');
  // A snapshot when given; otherwise live watches: in-cluster, --kubeconfig/--context,
  // KUBECONFIG or ~/.kube/config. The daemon reports readiness itself instead of blocking.
  const metadataFactory = ENRICHERS.metadata;
  const metadata: MetadataComponent = await metadataFactory.create(
    parseSettings(
      metadataFactory.schema,
      config.kube.length
        ? { kube: config.kube, allowEmptyKube: config.allowEmptyKube }
        : { kubeconfig: config.kubeconfig, context: config.context, inCluster: runningInCluster(), waitForSync: false },
      'metadata',
    ),
    // The daemon's notices are log lines like all the rest (replay prints them as text).
    { log, signal: readerStop.signal, notice: (line) => log.warn(line.replace(/^kovenant: /, '')) },
  );
  const counters = new EventCounters();
  let collectors: CollectorComponent[] = [];
  const collectorErrors = new Map<string, number>();
  // Everything opened below is released on every path, failures included: an open sink
  // (its delivery loop), a followed source or a metrics server would keep the process
  // alive after the error is reported.
  let sink: SinkComponent | undefined;
  let input: SourceComponent | undefined;
  let sinkClosed = false;
  let metricsServer: MetricsServer | undefined;
  let decoding: DecodeStage | undefined;
  let dnstap: DnstapComponent | undefined;
  try {
    if (dnstapFactory.enabled(dnstapSettings)) dnstap = await dnstapFactory.create(dnstapSettings, { log, signal: readerStop.signal });
    // The conntrack table also tells which backend each Service connection went to.
    const serviceNat = config.conntrack ? new ConntrackServiceNat() : undefined;
    const resolver = new Resolver(metadata.store, {
      maxCachedEntries: config.maxCachedEntries,
      dnsNames: dnstap?.cache,
      cluster: config.clusterName,
      serviceNat,
    });
    collectors = await collectorsOf(config, { log, signal: readerStop.signal, resolver, counters, serviceNat });
    // Before the collectors' baseline: a checkpoint replaces the aggregator's state.
    // The sink first: a bad --spool-dir must be named as such, not as the checkpoint
    // file the daemon keeps beside it.
    const opened = await openSink(outputOptionsOf(config));
    sink = opened;
    const events = await openEvents(config, aggregator, readerStop.signal, log);
    input = events.input;
    const checkpoint = events.checkpoint;
    const decoder = new DecodeStage({ threads: config.decodeThreads });
    decoding = decoder;
    let externalPeersFolded = 0;
    const metricSources: MetricSources = {
      counters,
      openWindows: () => aggregator.openWindows,
      lagSeconds: () => {
        const newest = aggregator.newestWatermark((node) => !isCollectorKey(node));
        return Number.isFinite(newest) ? Math.max(0, (Date.now() - newest) / 1000) : undefined;
      },
      components: componentsOf(config, opened, input, collectors, collectorErrors, [metadata, dnstap]),
      decoderFallbacks: () => decoder.fallbacks,
      metadataSynced: () => metadata.isReady(),
      // Folded while aggregating (memory) and when a window is written (the exact bound).
      externalPeersFolded: () => externalPeersFolded + aggregator.externalPeersFolded,
      attributionCache: () => ({ entries: resolver.cache.size, evictions: resolver.cache.evictions }),
      checkpointSaves: checkpoint ? () => ({ saved: checkpoint.saved, failed: checkpoint.failed }) : undefined,
    };
    // prom-client (~30 ms to load) only when the metrics are served: `--metrics-addr off` skips it.
    const telemetry = config.metricsAddr === 'off' ? undefined : await import('../telemetry/metrics.ts');
    const metrics = telemetry && new telemetry.DaemonMetrics(metricSources);
    if (telemetry && metrics) {
      metricsServer = await telemetry.serveMetrics(metrics, config.metricsAddr, () => metadata.isReady());
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
    const durationTimer = run.duration !== undefined ? setTimeout(() => stop.abort(), run.duration) : undefined;
    try {
      if (!metadata.isReady()) {
        // Events attributed before the caches are complete would land on the wrong pods.
        log.info('waiting for Kubernetes metadata before reading events (/readyz answers 503 until then)');
        await Promise.race([
          metadata.synced,
          new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true })),
        ]);
        if (metadata.isReady()) log.info({ counts: metadata.status()?.counts }, 'Kubernetes metadata synced');
      }
      // After the wait, so that the first sample covers one interval, not the wait; and
      // still before "running": refusals (accounting off, no /proc) come first.
      await startCollectors(collectors, aggregator, Date.now());
      log.info(
        {
          events: config.events,
          collectors: collectors.map((c) => c.name),
          windows: aggregator.windowsDescription,
          latenessMs,
          node: config.nodeName,
          decodeThreads: config.decodeThreads,
        },
        'running',
      );
      await runLive({
        // Stopped while waiting for metadata: nothing may be read with an unsynced store.
        input: stop.signal.aborted ? undefined : input,
        collectors,
        resolver,
        sink: metrics ? metrics.timed(opened) : opened,
        decoding: decoder,
        aggregator,
        counters,
        stop: stop.signal,
        maxExternalPeers: config.maxExternalPeers,
        maxClockSkewMs: run.maxClockSkew,
        onPeersFolded: (n) => (externalPeersFolded += n),
        checkpoint,
        onCollectorError: (c, err) => {
          collectorErrors.set(c.name, (collectorErrors.get(c.name) ?? 0) + 1);
          log.warn({ collector: c.name, err: (err as Error).message }, 'collector sample failed; retrying next interval');
        },
      });
      sinkClosed = true;
      await opened.close();
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
    await input?.close();
    await decoding?.close();
    // On a failure path: what is spooled stays on disk; only the delivery loop must stop.
    if (sink && !sinkClosed) await sink.close().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sink not flushed'));
    await metricsServer?.close();
    await dnstap?.close();
    await metadata.close();
    for (const c of collectors) await c.close();
  }
}

/** Every part's stats, for the metrics: the sink, the source, the collectors and the enrichers. */
function componentsOf(
  config: DaemonConfig,
  sink: SinkComponent,
  input: SourceComponent | undefined,
  collectors: readonly CollectorComponent[],
  collectorErrors: ReadonlyMap<string, number>,
  [metadata, dnstap]: [MetadataComponent, DnstapComponent | undefined],
): () => ComponentReport[] {
  return () => {
    const errors: Record<string, number> = {};
    for (const [name, n] of collectorErrors) errors[`${name}_errors`] = n;
    return [
      { kind: 'sink', name: outputOptionsOf(config).output ?? 'line', stats: sink.stats() },
      ...(input
        ? [
            {
              kind: 'source' as const,
              name: config.events === '-' ? 'read' : config.events === 'k8s-logs' ? 'k8s-logs' : 'follow',
              stats: input.stats(),
            },
          ]
        : []),
      ...collectors.map((c) => ({ kind: 'collector' as const, name: c.name, stats: c.stats() })),
      { kind: 'collector', name: 'errors', stats: errors },
      { kind: 'enricher', name: ENRICHERS.metadata.name, stats: metadata.stats() },
      ...(dnstap ? [{ kind: 'enricher' as const, name: ENRICHERS.dnstap.name, stats: dnstap.stats() }] : []),
    ];
  };
}
