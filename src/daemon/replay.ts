/**
 * `kovenant replay`, assembled: the events file, the metadata, the sink and the summary.
 * Line protocol to stdout (or --out), the summary to stderr.
 */
import { runReplay } from '../pipeline/replay.ts';
import { EventCounters } from '../pipeline/event-counters.ts';
import { OutputError } from '../sinks/output-error.ts';
import { durationMs, parseSettings } from '../core/config-values.ts';
import { SOURCES } from '../sources/registry.ts';
import { createLogger } from '../telemetry/logger.ts';
import * as z from 'zod';
import { SHARED_SCHEMAS, SHARED_SETTINGS, atLeastOne, windowLengthMs } from '../config/shared-settings.ts';
import type { MetadataComponent } from '../enrich/metadata/component.ts';
import { ENRICHERS } from '../enrich/registry.ts';
import { openSink, type OutputOptions } from './sinks.ts';
import { formatSummary } from './replay-summary.ts';

export interface ReplayCommandOptions extends OutputOptions {
  kube?: string[];
  kubeconfig?: string;
  context?: string;
  syncTimeout?: string;
  allowEmptyKube?: boolean;
  window?: string;
  lateness?: string;
  maxOpenPoints: string;
  maxCachedEntries?: string;
  decodeThreads?: string;
  summary: boolean;
  clusterName?: string;
}

/** Replay's settings, parsed once into milliseconds and counts; the keys `run` shares parse as in config/shared-settings.ts. */
const REPLAY_SCHEMA = z.object({
  window: z.string().default(SHARED_SETTINGS.window.defaults.replay).transform(windowLengthMs),
  /** Default: windows close at the end of the input (exact in any order). */
  lateness: durationMs('--lateness').default(Infinity),
  maxOpenPoints: atLeastOne('point'),
  maxCachedEntries: SHARED_SCHEMAS.maxCachedEntries.default(Number(SHARED_SETTINGS.maxCachedEntries.defaults.replay)),
  decodeThreads: SHARED_SCHEMAS.decodeThreads.prefault(SHARED_SETTINGS.decodeThreads.defaults.replay),
});

export async function runReplayCommand(events: string, opts: ReplayCommandOptions, stderr: (text: string) => void): Promise<void> {
  const {
    window: windowMs,
    lateness: latenessMs,
    maxOpenPoints,
    maxCachedEntries,
    decodeThreads,
  } = parseSettings(REPLAY_SCHEMA, opts, 'replay');
  const started = Date.now();
  const read = SOURCES.read;
  const context = { log: createLogger('kovenant-replay'), signal: new AbortController().signal };
  const input = await read.create(parseSettings(read.schema, { path: events }, 'events'), context);
  const metadataFactory = ENRICHERS.metadata;
  let metadata: MetadataComponent;
  try {
    metadata = await metadataFactory.create(parseSettings(metadataFactory.schema, opts, 'metadata'), { ...context, notice: stderr });
  } catch (err) {
    await input.close();
    throw err;
  }
  // Watches hold connections open: everything after this point must reach close().
  try {
    const sink = await openSink(opts);
    const counters = new EventCounters();
    const printSummary = (): void => {
      if (opts.summary) stderr(formatSummary(counters, Date.now() - started, sink.destination) + (sink.deliverySummary?.() ?? ''));
    };
    try {
      await runReplay({
        input,
        store: metadata.store,
        sink,
        decodeThreads,
        windowMs,
        latenessMs,
        maxOpenPoints,
        maxCachedEntries,
        clusterName: opts.clusterName,
        counters,
      });
    } catch (err) {
      // What was read and written up to the failure, then the error itself.
      if (err instanceof OutputError) printSummary();
      throw err;
    }
    printSummary();
    // Exit 1 with "N points not acknowledged": replay succeeded only if InfluxDB has it all.
    const failure = sink.deliveryFailure?.();
    if (failure) throw failure;
  } finally {
    await metadata.close();
    await input.close();
  }
}
