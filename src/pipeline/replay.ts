/** Offline replay: an events file through the pipeline into a sink, with a summary. */
import { lastValueFrom, defaultIfEmpty } from 'rxjs';
import { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { CountingDecoder } from '../decode/default-decoder.ts';
import type { MetadataStore } from '../enrich/metadata/model.ts';
import { Resolver } from '../enrich/resolver.ts';
import type { MetricSink } from '../core/metric-point.ts';
import type { ByteInput } from '../sources/byte-input.ts';
import { EventCounters } from './event-counters.ts';
import { Backpressure, chunksFrom, eventsToWindows, intoSink } from './event-pipeline.ts';

/**
 * Points held in open windows (about 10 MB): exact in any event order while the input
 * fits, which is hours of a typical node; beyond it the oldest windows are written.
 */
export const DEFAULT_MAX_OPEN_POINTS = 10_000;

export interface ReplayOptions {
  input: ByteInput;
  store: MetadataStore;
  sink: MetricSink;
  decoder: CountingDecoder;
  windowMs: number;
  /** Infinity: windows stay open until the end of the input (exact in any event order). */
  latenessMs: number;
  /** Bound on points held in open windows; the oldest windows are written early beyond it. */
  maxOpenPoints?: number;
}

export async function runReplay(options: ReplayOptions): Promise<EventCounters> {
  const counters = new EventCounters();
  const resolver = new Resolver(options.store);
  const aggregator = new WindowAggregator({ windowMs: options.windowMs, latenessMs: options.latenessMs, maxOpenSlots: options.maxOpenPoints ?? DEFAULT_MAX_OPEN_POINTS });
  const backpressure = new Backpressure();
  const done$ = chunksFrom(options.input.chunks, backpressure).pipe(
    eventsToWindows({ decoder: options.decoder, resolver, aggregator, counters }),
    intoSink(options.sink, backpressure, counters),
    defaultIfEmpty(undefined),
  );
  await lastValueFrom(done$);
  counters.fallbacks = options.decoder.fallbacks;
  await options.sink.close();
  return counters;
}
