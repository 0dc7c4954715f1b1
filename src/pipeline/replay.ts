/** Offline replay: an events file through the pipeline into a sink, with a summary. */
import { lastValueFrom, defaultIfEmpty } from './rx.ts';
import { WindowAggregator } from '../aggregate/window-aggregator.ts';
import { TempFileSpill } from '../aggregate/window-spill.ts';
import type { MetadataStore } from '../enrich/metadata/model.ts';
import { Resolver } from '../enrich/resolver.ts';
import type { MetricSink } from '../core/metric-point.ts';
import type { ByteInput } from '../sources/byte-input.ts';
import { EventCounters } from './event-counters.ts';
import { Backpressure, chunksFrom, eventsToWindows, intoSink } from './event-pipeline.ts';
import { DecodeStage } from './decode-stage.ts';

/**
 * Points held in memory in open windows; beyond it they go to a temporary file (see
 * window-spill.ts) and are read back when their window is written.
 */
export const DEFAULT_MAX_OPEN_POINTS = 100_000;

export interface ReplayOptions {
  input: ByteInput;
  store: MetadataStore;
  sink: MetricSink;
  /** Worker threads decoding lines (decode-stage.ts); 0 decodes in this thread. */
  decodeThreads: number;
  windowMs: number;
  /** Infinity: windows stay open until the end of the input (exact in any event order). */
  latenessMs: number;
  /** Bound on points held in memory in open windows; beyond it they are spilled to a temporary file. */
  maxOpenPoints?: number;
  /** The resolver's cache bound (attribution-cache.ts). */
  maxCachedEntries?: number;
  /** The `cluster` tag of events without `cluster_name`. */
  clusterName?: string | undefined;
  /** Filled as the replay goes, so that a failed sink still leaves a summary to print. */
  counters?: EventCounters;
}

/** The chunks, then the sink's drain clock: the input is read, what is left has --drain-timeout. */
async function* thenDrain(chunks: AsyncIterable<Buffer>, sink: MetricSink): AsyncIterable<Buffer> {
  yield* chunks;
  sink.drain?.();
}

export async function runReplay(options: ReplayOptions): Promise<EventCounters> {
  const counters = options.counters ?? new EventCounters();
  const resolver = new Resolver(options.store, { maxCachedEntries: options.maxCachedEntries, cluster: options.clusterName });
  const spill = new TempFileSpill();
  const aggregator = new WindowAggregator({
    windowMs: options.windowMs,
    latenessMs: options.latenessMs,
    maxOpenSlots: options.maxOpenPoints ?? DEFAULT_MAX_OPEN_POINTS,
    spill,
  });
  const backpressure = new Backpressure();
  const decoding = new DecodeStage({ threads: options.decodeThreads });
  const done$ = chunksFrom(thenDrain(options.input.chunks, options.sink), backpressure, decoding).pipe(
    eventsToWindows({ decoding, resolver, aggregator, counters, closeInTurn: backpressure }),
    intoSink(options.sink, backpressure, counters),
    defaultIfEmpty(undefined),
  );
  try {
    await lastValueFrom(done$);
  } finally {
    spill.close();
    await decoding.close();
  }
  counters.fallbacks = decoding.fallbacks;
  await options.sink.close();
  return counters;
}
