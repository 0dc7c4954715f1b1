/**
 * `kovenant replay <events> --kube <snapshot> [--kube ...] [--window 10s] [--out FILE]`
 * Line protocol to stdout (or --out), the summary to stderr. Exit 0 when the inputs
 * could be read, even with rejected lines; 2 for unreadable inputs and bad options.
 */
import { Command, Option } from 'commander';
import { DEFAULT_MAX_OPEN_POINTS } from '../pipeline/replay.ts';
import { runReplayCommand, type ReplayCommandOptions } from '../daemon/replay.ts';
import { flagOf, outputSettingsOf } from '../config/output-settings.ts';
import { SHARED_KEYS, SHARED_SETTINGS, collectRepeated, sharedHelp, type SharedSetting } from '../config/shared-settings.ts';
import { DESCRIPTIONS } from './command-names.ts';
import { addMetadataOptions } from './metadata-options.ts';
import { addOutputOptions } from './output-options.ts';

export function replayCommand(stderr: (text: string) => void): Command {
  const cmd = addMetadataOptions(
    new Command('replay')
      .description(DESCRIPTIONS.replay)
      .argument('<events>', 'Tetragon export events, one JSON object per line; "-" reads stdin; .gz is decompressed'),
  ).option(
    '--max-open-points <n>',
    'bound on points held in memory in open windows; beyond it they go to a temporary file until their window is written',
    String(DEFAULT_MAX_OPEN_POINTS),
  );
  // The settings `run` shares: the same help, value and parse (config/shared-settings.ts), replay's defaults.
  for (const key of SHARED_KEYS) {
    const s: SharedSetting = SHARED_SETTINGS[key];
    const option = new Option(s.value ? `${flagOf(key)} <${s.value}>` : flagOf(key), sharedHelp(key, 'replay'));
    if (s.list) option.argParser(collectRepeated);
    // No commander default: the help says it once, and REPLAY_SCHEMA (daemon/replay.ts) applies it.
    cmd.addOption(option);
  }
  return addOutputOptions(cmd)
    .option('--no-summary', 'do not print the summary to stderr')
    .action(async (events: string, opts: ReplayCommandOptions) => {
      await runReplayCommand(events, outputSettingsOf(opts, process.env), stderr);
    });
}
