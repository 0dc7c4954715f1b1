/**
 * `kovenant replay <events> --kube <snapshot> [--kube ...] [--window 10s] [--out FILE]`
 * Line protocol to stdout (or --out), the summary to stderr. Exit 0 when the inputs
 * could be read, even with rejected lines; 2 for unreadable inputs and bad options.
 */
import { Command } from 'commander';
import { DEFAULT_MAX_CACHED_ENTRIES } from '../enrich/attribution-cache.ts';
import { DEFAULT_MAX_OPEN_POINTS } from '../pipeline/replay.ts';
import { runReplayCommand, type ReplayCommandOptions } from '../daemon/replay.ts';
import { outputSettingsOf } from '../config/output-settings.ts';
import { DESCRIPTIONS } from './command-names.ts';
import { addMetadataOptions } from './metadata-options.ts';
import { addOutputOptions } from './output-options.ts';

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
      await runReplayCommand(events, outputSettingsOf(opts, process.env), stderr);
    });
}
