/**
 * `kovenant replay <events> --kube <snapshot> [--kube ...] [--window 10s] [--out FILE]`
 * Line protocol to stdout (or --out), the summary to stderr. Exit 0 when the inputs
 * could be read, even with rejected lines; 2 for unreadable inputs and bad options.
 */
import { Command } from 'commander';
import { createDecoder } from '../decode/default-decoder.ts';
import { DEFAULT_MAX_CACHED_ENTRIES } from '../enrich/attribution-cache.ts';
import { DEFAULT_MAX_OPEN_POINTS, runReplay } from '../pipeline/replay.ts';
import { MAX_WINDOW_MS } from '../aggregate/window.ts';
import { EventCounters } from '../pipeline/event-counters.ts';
import { OutputError } from '../sinks/output-error.ts';
import { openByteInput } from '../sources/byte-input.ts';
import { DESCRIPTIONS } from './command-names.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';
import { addMetadataOptions, openMetadata, type MetadataOptions } from './metadata-options.ts';
import { addOutputOptions, openSink, type OutputOptions } from './output-options.ts';
import { formatSummary } from './replay-summary.ts';

export interface ReplayCommandOptions extends MetadataOptions, OutputOptions {
  window: string;
  lateness?: string;
  maxOpenPoints: string;
  maxCachedEntries: string;
  summary: boolean;
  clusterName?: string;
}

export function replayCommand(stderr: (text: string) => void): Command {
  const cmd = addMetadataOptions(
    new Command('replay')
      .description(DESCRIPTIONS.replay)
      .argument('<events>', 'Tetragon export events, one JSON object per line; "-" reads stdin; .gz is decompressed'),
  )
    .option('--window <duration>', 'window length, aligned to the epoch', '10s')
    .option('--lateness <duration>', 'close a window once its node\'s events are this far past its end (default: at the end of the input, exact in any order)')
    .option('--cluster-name <name>', 'the cluster tag of points whose events carry no cluster_name')
    .option('--max-open-points <n>', 'bound on points held in memory in open windows; beyond it they go to a temporary file until their window is written', String(DEFAULT_MAX_OPEN_POINTS))
    .option('--max-cached-entries <n>', 'bound on the attribution cache (pods, peers, series, owner chains together), least recently used evicted', String(DEFAULT_MAX_CACHED_ENTRIES));
  return addOutputOptions(cmd)
    .option('--no-summary', 'do not print the summary to stderr')
    .action(async (events: string, opts: ReplayCommandOptions) => {
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
      const input = await openByteInput(events);
      let metadata: Awaited<ReturnType<typeof openMetadata>>;
      try {
        metadata = await openMetadata(opts, stderr);
      } catch (err) {
        await input.close?.();
        throw err;
      }
      // Watches hold connections open: everything after this point must reach close().
      try {
        const { sink, destination, deliveryFailure, deliverySummary } = await openSink(opts);
        const counters = new EventCounters();
        const printSummary = (): void => {
          if (opts.summary) stderr(formatSummary(counters, Date.now() - started, destination) + (deliverySummary?.() ?? ''));
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
        const failure = deliveryFailure?.();
        if (failure) throw failure;
      } finally {
        await metadata.close();
        await input.close?.();
      }
    });
}
