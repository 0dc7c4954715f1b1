/**
 * `kovenant replay <events> --kube <snapshot> [--kube ...] [--window 10s] [--out FILE]`
 * Line protocol to stdout (or --out), the summary to stderr. Exit 0 when the inputs
 * could be read, even with rejected lines; 2 for unreadable inputs and bad options.
 */
import { Command } from 'commander';
import { createDecoder } from '../decode/default-decoder.ts';
import { DEFAULT_MAX_OPEN_POINTS, runReplay } from '../pipeline/replay.ts';
import { openByteInput } from '../sources/byte-input.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';
import { addMetadataOptions, openMetadata, type MetadataOptions } from './metadata-options.ts';
import { addOutputOptions, openSink, type OutputOptions } from './output-options.ts';
import { formatSummary } from './replay-summary.ts';

export interface ReplayCommandOptions extends MetadataOptions, OutputOptions {
  window: string;
  lateness?: string;
  maxOpenPoints: string;
  summary: boolean;
}

export function replayCommand(stderr: (text: string) => void): Command {
  const cmd = addMetadataOptions(
    new Command('replay')
      .description('replay a Tetragon export (JSON lines, .gz or - for stdin) into windowed line protocol')
      .argument('<events>', 'Tetragon export events, one JSON object per line; "-" reads stdin; .gz is decompressed'),
  )
    .option('--window <duration>', 'window length, aligned to the epoch', '10s')
    .option('--lateness <duration>', 'close a window once its node\'s events are this far past its end (default: at the end of the input, exact in any order)')
    .option('--max-open-points <n>', 'bound on points held in open windows; beyond it the oldest windows are written early (memory)', String(DEFAULT_MAX_OPEN_POINTS));
  return addOutputOptions(cmd)
    .option('--no-summary', 'do not print the summary to stderr')
    .action(async (events: string, opts: ReplayCommandOptions) => {
      const windowMs = parseDuration(opts.window, '--window');
      if (windowMs <= 0) throw new InputError('--window must be longer than 0', 'e.g. --window 10s');
      const latenessMs = opts.lateness === undefined ? Infinity : parseDuration(opts.lateness, '--lateness');
      const maxOpenPoints = Number(opts.maxOpenPoints);
      if (!Number.isSafeInteger(maxOpenPoints) || maxOpenPoints < 1) {
        throw new InputError(`--max-open-points: "${opts.maxOpenPoints}" is not a positive whole number`, 'e.g. --max-open-points 500000 (about 100 MB)');
      }
      const started = Date.now();
      const input = await openByteInput(events);
      // Watches hold connections open: everything after this point must reach close().
      const metadata = await openMetadata(opts, stderr);
      try {
        const { sink, destination, deliveryFailure, deliverySummary } = await openSink(opts);
        const counters = await runReplay({ input, store: metadata.store, sink, decoder: createDecoder(), windowMs, latenessMs, maxOpenPoints });
        if (opts.summary) stderr(formatSummary(counters, Date.now() - started, destination) + (deliverySummary?.() ?? ''));
        // Exit 1 with "N points not acknowledged": replay succeeded only if InfluxDB has it all.
        const failure = deliveryFailure?.();
        if (failure) throw failure;
      } finally {
        await metadata.close();
      }
    });
}
