/**
 * `kovenant replay`, assembled: the events file, the metadata, the sink and the summary.
 * Line protocol to stdout (or --out), the summary to stderr.
 */
import { createDecoder } from '../decode/default-decoder.ts';
import { DEFAULT_MAX_CACHED_ENTRIES } from '../enrich/attribution-cache.ts';
import { runReplay } from '../pipeline/replay.ts';
import { MAX_WINDOW_MS } from '../aggregate/window.ts';
import { EventCounters } from '../pipeline/event-counters.ts';
import { OutputError } from '../sinks/output-error.ts';
import { parseSettings } from '../core/config-values.ts';
import { SOURCES } from '../sources/registry.ts';
import { createLogger } from '../telemetry/logger.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';
import { openMetadata, type MetadataOptions } from './metadata.ts';
import { openSink, type OutputOptions } from './sinks.ts';
import { formatSummary } from './replay-summary.ts';

export interface ReplayCommandOptions extends MetadataOptions, OutputOptions {
  window: string;
  lateness?: string;
  maxOpenPoints: string;
  maxCachedEntries: string;
  summary: boolean;
  clusterName?: string;
}

export async function runReplayCommand(events: string, opts: ReplayCommandOptions, stderr: (text: string) => void): Promise<void> {
  const windowMs = parseDuration(opts.window, '--window');
  if (windowMs <= 0) throw new InputError('--window must be longer than 0', 'e.g. --window 10s');
  if (windowMs > MAX_WINDOW_MS) throw new InputError(`--window ${opts.window}: longer than a day`, 'give --window 1d or less, e.g. 10s');
  const latenessMs = opts.lateness === undefined ? Infinity : parseDuration(opts.lateness, '--lateness');
  const maxOpenPoints = Number(opts.maxOpenPoints);
  if (!Number.isSafeInteger(maxOpenPoints) || maxOpenPoints < 1) {
    throw new InputError(`--max-open-points: "${opts.maxOpenPoints}" is not a positive whole number`, 'e.g. --max-open-points 500000 (about 100 MB)');
  }
  const maxCachedEntries = Number(opts.maxCachedEntries);
  if (!Number.isSafeInteger(maxCachedEntries) || maxCachedEntries < 1) {
    throw new InputError(`--max-cached-entries: "${opts.maxCachedEntries}" is not a positive whole number`, `e.g. --max-cached-entries ${DEFAULT_MAX_CACHED_ENTRIES}`);
  }
  const started = Date.now();
  const read = SOURCES.read;
  const input = await read.create(parseSettings(read.schema, { path: events }, 'events'), { log: createLogger('kovenant-replay'), signal: new AbortController().signal });
  let metadata: Awaited<ReturnType<typeof openMetadata>>;
  try {
    metadata = await openMetadata(opts, stderr);
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
      await runReplay({ input, store: metadata.store, sink, decoder: createDecoder(), windowMs, latenessMs, maxOpenPoints, maxCachedEntries, clusterName: opts.clusterName, counters });
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
