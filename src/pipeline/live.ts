/**
 * The daemon's pipeline: the replay stages (chunks → decode → enrich → aggregate →
 * sink) for the event stream, merged with node collectors sampled on timers, and
 * windows closed three ways:
 *  - by event-time watermark (per node) plus the allowed lateness, as events arrive;
 *  - by wall clock when the stream is idle (and for collectors, whose samples carry
 *    wall-clock time): every tick closes windows that ended before now − lateness,
 *    unless a chunk came since the previous tick. A daemon catching up a backlog after
 *    a restart thus closes windows by event time only, as the first run did, and
 *    rewrites them whole;
 *  - all at once on stop (signal, --duration, end of stdin).
 * Events later than that go to the oldest open window and are counted (`late`).
 */
import {
  EMPTY,
  Observable,
  Subject,
  concat,
  concatMap,
  defaultIfEmpty,
  defer,
  filter,
  interval,
  lastValueFrom,
  merge,
  takeUntil,
  tap,
} from './rx.ts';
import { guardExternalPeers, guardedPeerOf } from '../aggregate/external-peer-guard.ts';
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { NodeCollector } from '../collectors/collector.ts';
import type { Resolver } from '../enrich/resolver.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import type { ByteInput } from '../sources/byte-input.ts';
import type { CheckpointTracker } from './checkpoint.ts';
import type { EventCounters } from './event-counters.ts';
import { Backpressure, chunksFrom, eventsToWindows, intoSink, type StreamProgress } from './event-pipeline.ts';
import type { DecodeStage } from './decode-stage.ts';

export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface LiveOptions {
  /** The event stream; undefined for collectors only (`--events none`). */
  input: ByteInput | undefined;
  collectors: readonly NodeCollector[];
  resolver: Resolver;
  sink: MetricSink;
  /** Splits and decodes the event stream (decode-stage.ts); its owner closes it. */
  decoding: DecodeStage;
  aggregator: WindowAggregator;
  counters: EventCounters;
  /** Aborted when the daemon should stop: a signal or --duration. */
  stop: AbortSignal;
  /** How often idle windows are checked and collectors considered; default 1 s. */
  tickMs?: number;
  /** A collector failed after it had started; the daemon keeps running. */
  onCollectorError?: (collector: NodeCollector, err: unknown) => void;
  now?: () => number;
  /** External peers kept per window and measurement; 0 or undefined keeps all. */
  maxExternalPeers?: number;
  /** Peers folded into `remote_name=other` by the guard, per batch. */
  onPeersFolded?: (peers: number) => void;
  /** Events further ahead of `now()` than this are rejected as `time_in_future`; default 5 min. */
  maxClockSkewMs?: number;
  /** Saves a checkpoint after each acknowledged batch (followed files only). */
  checkpoint?: CheckpointTracker;
}

/**
 * Takes every collector's baseline sample: a collector that cannot work (accounting
 * off, no /proc) fails here, before the daemon reports itself running.
 */
export async function startCollectors(collectors: readonly NodeCollector[], aggregator: WindowAggregator, nowMs: number): Promise<void> {
  for (const c of collectors) await c.collect(nowMs, aggregator);
}

/**
 * False when no (window, node, measurement) group of the batch can name more than `max`
 * peers, because the whole batch has no more guarded points than that: the guard would
 * return the batch unchanged. Its own pass builds a key string and map entries for every
 * guarded point (about 4% of a busy daemon's time, profiled), this one reads two tags.
 */
function mayExceedPeerBound(points: readonly MetricPoint[], max: number): boolean {
  let guarded = 0;
  for (const p of points) if (guardedPeerOf(p.measurement, p.tags) !== undefined && ++guarded > max) return true;
  return false;
}

/** Runs until `stop` aborts or the input ends; resolves after the sink took the last window. */
export async function runLive(options: LiveOptions): Promise<EventCounters> {
  const { aggregator, counters, collectors, resolver, decoding } = options;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 1000;
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const backpressure = new Backpressure();

  const nextDue = new Map<NodeCollector, number>(collectors.map((c) => [c, now() + c.intervalMs]));
  // Samples are serialised: a tick and the stop must not read one collector at once.
  let sampling: Promise<void> = Promise.resolve();
  let finalSampleTaken = false;
  const sample = (force: boolean): Promise<void> => {
    sampling = sampling.then(async () => {
      if (finalSampleTaken) return;
      if (force) finalSampleTaken = true;
      for (const c of collectors) {
        const t = now();
        if (!force && t < (nextDue.get(c) ?? 0)) continue;
        nextDue.set(c, t + c.intervalMs);
        try {
          await c.collect(t, aggregator);
        } catch (err) {
          options.onCollectorError?.(c, err);
        }
      }
    });
    return sampling;
  };

  // On stop the collectors take a last sample first, so that the final close of all
  // windows (when the event stream completes) has everything.
  const stopped$ = new Subject<void>();
  const onAbort = (): void => {
    options.sink.drain?.();
    void sample(true).then(() => {
      stopped$.next();
      stopped$.complete();
    });
  };
  if (options.stop.aborted) onAbort();
  else options.stop.addEventListener('abort', onAbort, { once: true });

  // Every batch passes here the moment it is closed: the guard, then the checkpoint
  // mark, which must see the aggregator exactly as it was when the batch closed.
  const progress: StreamProgress = { linesEnd: 0 };
  const finishBatch = (points: MetricPoint[]): MetricPoint[] => {
    if (points.length === 0) return points;
    let out = points;
    if (options.maxExternalPeers && mayExceedPeerBound(points, options.maxExternalPeers)) {
      const guarded = guardExternalPeers(points, options.maxExternalPeers);
      if (guarded.foldedPeers > 0) options.onPeersFolded?.(guarded.foldedPeers);
      out = guarded.points;
    }
    options.checkpoint?.mark(out, progress.linesEnd);
    return out;
  };

  let chunkSinceTick = false;
  const eventsEnded$ = new Subject<void>();
  const events$: Observable<MetricPoint[]> = options.input
    ? concat(
        chunksFrom(options.input.chunks, backpressure, decoding).pipe(
          takeUntil(stopped$),
          tap(() => (chunkSinceTick = true)),
          eventsToWindows({
            decoding,
            resolver,
            aggregator,
            counters,
            progress,
            finishBatch,
            dropUnterminatedLine: options.checkpoint !== undefined,
            latestTimeMs: () => now() + maxClockSkewMs,
          }),
        ),
        defer(() => {
          // stdin ended: what is left to deliver has --drain-timeout, as on a signal.
          options.sink.drain?.();
          eventsEnded$.next();
          return EMPTY;
        }),
      )
    : EMPTY;
  const ticks$ = interval(tickMs).pipe(
    takeUntil(merge(stopped$, eventsEnded$)),
    concatMap(async () => {
      await sample(false);
      const busy = chunkSinceTick;
      chunkSinceTick = false;
      return busy ? [] : finishBatch(aggregator.closeBefore(now()));
    }),
  );
  // Without events (or when stdin ended first), the last sample and close happen here.
  const final$ = defer(async () => {
    await sample(true);
    return finishBatch(aggregator.closeAll());
  });

  const done$ = concat(merge(events$, ticks$), final$).pipe(
    filter((points) => points.length > 0),
    intoSink(
      options.sink,
      backpressure,
      counters,
      options.checkpoint ? async (points) => options.checkpoint!.acknowledged(points) : undefined,
    ),
    defaultIfEmpty(undefined),
  );
  try {
    await lastValueFrom(done$);
    // The last windows' checkpoint: saved before the daemon reports itself stopped.
    await options.checkpoint?.settled();
  } finally {
    options.stop.removeEventListener('abort', onAbort);
  }
  counters.late = aggregator.lateEvents;
  return counters;
}
