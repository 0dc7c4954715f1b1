/**
 * `kovenant replay <events> --kube <snapshot> [--kube ...] [--window 10s] [--out FILE]`
 * Line protocol to stdout (or --out), the summary to stderr. Exit 0 when the inputs
 * could be read, even with rejected lines; 2 for unreadable inputs and bad options.
 */
import { Command } from 'commander';
import { createDecoder } from '../decode/default-decoder.ts';
import { runReplay } from '../pipeline/replay.ts';
import { openByteInput } from '../sources/byte-input.ts';
import { parseDuration } from './duration.ts';
import { addMetadataOptions, openMetadata, type MetadataOptions } from './metadata-options.ts';
import { addOutputOptions, openSink, type OutputOptions } from './output-options.ts';
import { formatSummary } from './replay-summary.ts';

export interface ReplayCommandOptions extends MetadataOptions, OutputOptions {
  window: string;
  lateness: string;
  summary: boolean;
}

export function replayCommand(stderr: (text: string) => void): Command {
  const cmd = addMetadataOptions(
    new Command('replay')
      .description('replay a Tetragon export (JSON lines, .gz or - for stdin) into windowed line protocol')
      .argument('<events>', 'Tetragon export events, one JSON object per line; "-" reads stdin; .gz is decompressed'),
  )
    .option('--window <duration>', 'window length, aligned to the epoch', '10s')
    .option('--lateness <duration>', 'how far (event time, per node) a window stays open for out-of-order events', '5m');
  return addOutputOptions(cmd)
    .option('--no-summary', 'do not print the summary to stderr')
    .action(async (events: string, opts: ReplayCommandOptions) => {
      const windowMs = parseDuration(opts.window, '--window');
      if (windowMs <= 0) throw new RangeError('--window must be longer than 0');
      const latenessMs = parseDuration(opts.lateness, '--lateness');
      const started = Date.now();
      const input = await openByteInput(events);
      // Watches hold connections open: everything after this point must reach close().
      const metadata = await openMetadata(opts, stderr);
      try {
        const { sink, destination, deliveryFailure, deliverySummary } = await openSink(opts);
        const counters = await runReplay({ input, store: metadata.store, sink, decoder: createDecoder(), windowMs, latenessMs });
        if (opts.summary) stderr(formatSummary(counters, Date.now() - started, destination) + (deliverySummary?.() ?? ''));
        // Exit 1 with "N points not acknowledged": replay succeeded only if InfluxDB has it all.
        const failure = deliveryFailure?.();
        if (failure) throw failure;
      } finally {
        await metadata.close();
      }
    });
}
