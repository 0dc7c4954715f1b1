/** Offline replay: an events file through the pipeline into a sink, with a summary. */
import { lastValueFrom, defaultIfEmpty } from 'rxjs';
import { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { CountingDecoder } from '../decode/default-decoder.ts';
import type { MetadataStore } from '../enrich/metadata/model.ts';
import { Resolver } from '../enrich/resolver.ts';
import type { MetricSink } from '../sinks/metric-point.ts';
import type { ByteInput } from '../sources/byte-input.ts';
import { EventCounters } from './event-counters.ts';
import { Backpressure, chunksFrom, eventsToWindows, intoSink } from './event-pipeline.ts';

export interface ReplayOptions {
  input: ByteInput;
  store: MetadataStore;
  sink: MetricSink;
  decoder: CountingDecoder;
  windowMs: number;
  latenessMs: number;
}

export async function runReplay(options: ReplayOptions): Promise<EventCounters> {
  const counters = new EventCounters();
  const resolver = new Resolver(options.store);
  const aggregator = new WindowAggregator({ windowMs: options.windowMs, latenessMs: options.latenessMs });
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
