/**
 * `--output` and the sink flags of replay, made from the settings table the daemon's
 * config shares (src/config/output-settings.ts): the same keys, help and environment
 * variables (`KOVENANT_*`, and the deprecated `INFLUX_*` ones). No flag has a commander
 * default or `.env()`: an absent flag falls back to the environment (outputSettingsOf),
 * then to the sink component's default.
 */
import { Command, Option } from 'commander';
import { OUTPUT_KEYS, OUTPUT_SETTINGS, envHelp, flagOf, type OutputSetting } from '../config/output-settings.ts';
import { OUTPUTS } from '../daemon/sinks.ts';

export function addOutputOptions(cmd: Command): Command {
  cmd.addOption(new Option('--output <kind>', 'where points go').choices(OUTPUTS).default('line'));
  for (const key of OUTPUT_KEYS) {
    const setting: OutputSetting = OUTPUT_SETTINGS[key];
    const option = new Option(`${flagOf(key)} <${setting.value}>`, `${setting.help} ${envHelp(key)}`);
    if (setting.choices) option.choices(setting.choices);
    if (setting.hidden) option.hideHelp();
    cmd.addOption(option);
  }
  return cmd;
}
